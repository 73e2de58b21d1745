package io.skein.coordinator.http;

import java.util.Objects;

/**
 * Who is asking: a token's holder, its tenant (null: none) and whether it sees everything. What a
 * caller makes (jobs, files, batches) is its tenant's; a caller that is not an admin sees only its
 * tenant's, and anything else is answered as if it did not exist (404).
 */
public record Caller(String name, String tenant, boolean admin) {

  /** Every request when the API asks no token: one user, who sees everything. */
  public static final Caller ANYONE = new Caller("anyone", null, true);

  public Caller {
    if (!admin && tenant == null) {
      throw new IllegalArgumentException("a token that is not an admin's needs a tenant");
    }
  }

  /** Whether this caller may see what {@code owner} (a tenant, or null for none) owns. */
  public boolean sees(String owner) {
    return admin || Objects.equals(tenant, owner);
  }

  /** The tenant a listing is narrowed to: null for an admin (everything). */
  public String only() {
    return admin ? null : tenant;
  }

  @Override
  public String toString() {
    return "Caller[" + name + (tenant == null ? "" : ", tenant " + tenant) + (admin ? ", admin" : "") + "]";
  }
}

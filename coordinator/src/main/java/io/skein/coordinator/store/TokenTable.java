package io.skein.coordinator.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * API tokens made at run time by an admin ({@code POST /tokens}, {@code skein tokens create}), in
 * {@code skein_tokens}: each token's SHA-256 (never the token), its holder's name (unique), its
 * tenant and whether it is an admin's. Every node reads the same table.
 */
public final class TokenTable {

  /** A stored token: no secret in it. */
  public record Entry(String name, String tenant, boolean admin, long createdAt) {}

  private final SkeinDb db;

  public TokenTable(SkeinDb db) {
    this.db = db;
  }

  /** Stores a token's hash; false if the name is taken. */
  public boolean insert(String sha256, Entry entry) {
    return db.sync(c -> {
      try (PreparedStatement check = c.prepareStatement("SELECT 1 FROM skein_tokens WHERE name = ?")) {
        check.setString(1, entry.name());
        try (ResultSet rs = check.executeQuery()) {
          if (rs.next()) {
            return false;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO skein_tokens (sha256, name, tenant, admin, created_at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, sha256);
        ps.setString(2, entry.name());
        ps.setString(3, entry.tenant());
        ps.setBoolean(4, entry.admin());
        ps.setLong(5, entry.createdAt());
        ps.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (String.valueOf(e.getSQLState()).startsWith("23")) {
          return false;
        }
        throw e;
      }
    });
  }

  /** The token with this hash, if it is stored. */
  public Optional<Entry> find(String sha256) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT name, tenant, admin, created_at FROM skein_tokens WHERE sha256 = ?")) {
        ps.setString(1, sha256);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(entry(rs)) : Optional.<Entry>empty();
        }
      }
    });
  }

  public List<Entry> list() {
    return db.sync(c -> {
      List<Entry> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT name, tenant, admin, created_at FROM skein_tokens ORDER BY name");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(entry(rs));
        }
      }
      return out;
    });
  }

  /** Removes the token of that holder; false if there was none. */
  public boolean delete(String name) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_tokens WHERE name = ?")) {
        ps.setString(1, name);
        return ps.executeUpdate() > 0;
      }
    });
  }

  private static Entry entry(ResultSet rs) throws SQLException {
    return new Entry(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getLong(4));
  }
}

package io.skein.worker.gateway;

/**
 * A token bucket refilled continuously at {@code perMinute}, holding up to two seconds' worth (at
 * least one unit), so a node never bursts far past its share. Zero per minute means no budget.
 * Not thread-safe: a gateway owns it.
 */
final class Budget {

  private double perMilli;
  private double capacity;
  private double available;
  private long updatedAt;

  Budget(double perMinute, long now) {
    resize(perMinute, now);
  }

  boolean unlimited() {
    return perMilli == 0;
  }

  /** A new rate: a budget that had none starts full; otherwise what is left stays, up to the new capacity. */
  void resize(double perMinute, long now) {
    boolean wasUnlimited = unlimited();
    refill(now);
    perMilli = perMinute / 60_000.0;
    capacity = Math.max(1, perMinute / 30.0);
    available = wasUnlimited ? capacity : Math.min(available, capacity);
    updatedAt = now;
  }

  /** Takes {@code amount} if it is there (amounts above the capacity pass when the bucket is full). */
  boolean tryTake(double amount, long now) {
    if (unlimited()) {
      return true;
    }
    refill(now);
    double needed = Math.min(amount, capacity);
    if (available >= needed) {
      available -= amount;
      return true;
    }
    return false;
  }

  /** Gives back (or, negative, takes more of) what an estimate got wrong. */
  void adjust(double amount, long now) {
    if (!unlimited()) {
      refill(now);
      available = Math.min(capacity, available + amount);
    }
  }

  /**
   * What the provider says of its own bucket: {@code available} now, refilled at {@code perMilli}
   * up to {@code capacity}. Replaces what this budget thought, whatever it was.
   */
  void observe(double available, double perMilli, double capacity, long now) {
    this.perMilli = Math.max(perMilli, Double.MIN_NORMAL);
    this.capacity = Math.max(1, capacity);
    this.available = Math.min(this.capacity, available);
    this.updatedAt = now;
  }

  /** Milliseconds until {@code amount} is there. */
  long millisUntil(double amount, long now) {
    if (unlimited()) {
      return 0;
    }
    refill(now);
    double missing = Math.min(amount, capacity) - available;
    return missing <= 0 ? 0 : (long) Math.ceil(missing / perMilli);
  }

  private void refill(long now) {
    if (now > updatedAt) {
      available = Math.min(capacity, available + (now - updatedAt) * perMilli);
      updatedAt = now;
    }
  }
}

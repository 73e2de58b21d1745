package io.skein.coordinator.job;

import io.skein.protocol.RecordProtocol.RecordBlocked;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of a job's records the coordinator has sent, and what it has heard of them: the pure half of
 * {@link JobCoordinator}'s dispatch, tested without actors. Records are sent in index order; those
 * below {@code low} have all ended; those ended above it are kept until {@code low} passes them.
 *
 * <p>A record is <em>in flight</em> from its first {@code Ensure} until it ends or is blocked, and
 * <em>starting</em> until it is first heard from (it reports once its first event is written, or
 * at once if it had started before). At most {@code window} are in flight and at most
 * {@code maxStarting} are starting: a window of tens of thousands opens as fast as records start,
 * not in one burst of recoveries and first writes that the journal would time out on.
 *
 * <p>Timestamps are when a record was last sent {@code Ensure}: one silent for too long is sent
 * another ({@link #stale}). Not thread-safe: the coordinator's own state.
 *
 * <p>A retry of a job's failed records sends only those ({@link #beginOnly}): they come a page at a
 * time ({@link #addPage}), in index order, and {@code low} is the first of them not yet ended.
 */
final class Dispatch {

  private final int maxStarting;
  private long low;
  private long sentUpTo;
  private final Set<Long> endedAhead = new HashSet<>();
  private final Map<Long, Long> inFlight = new HashMap<>();
  private final Set<Long> starting = new HashSet<>();
  /** Records waiting for a resume (not in flight, not ended), with what refused them, oldest first. */
  private final Map<Long, RecordBlocked> blocked = new LinkedHashMap<>();
  /** In a retry: the records of its pages not yet ended (null: every index is sent). */
  private java.util.NavigableSet<Long> only;
  /** In a retry: the last index paged in (-1 before the first page), and whether it was the last page. */
  private long paged;
  private boolean lastPage;
  /** In a retry: records paged in and not yet sent. */
  private int unsent;
  /** In a retry: what each paged record's error row counted, until the record ends (its new row counts it again). */
  private final Map<Long, io.skein.coordinator.store.JobStore.FailedRow> prior = new HashMap<>();

  Dispatch(int maxStarting) {
    if (maxStarting < 1) {
      throw new IllegalArgumentException("max-starting must be at least 1, not " + maxStarting);
    }
    this.maxStarting = maxStarting;
  }

  /** Starts over from {@code low}, knowing which records at or above it have ended already. */
  void begin(long low, Collection<Long> ended) {
    this.low = low;
    sentUpTo = low;
    endedAhead.clear();
    endedAhead.addAll(ended);
    inFlight.clear();
    starting.clear();
    blocked.clear();
    prior.clear();
    only = null;
    advanceLow();
  }

  /** Starts a retry: only the records of the pages added next are sent. */
  void beginOnly() {
    begin(0, List.of());
    only = new java.util.TreeSet<>();
    paged = -1;
    lastPage = false;
    unsent = 0;
  }

  /** A retry's next page of records' error rows, in index order; {@code last}: no more will come. */
  void addPage(List<io.skein.coordinator.store.JobStore.FailedRow> rows, boolean last) {
    for (var row : rows) {
      if (row.index() > paged && only.add(row.index())) {
        unsent++;
        prior.put(row.index(), row);
      }
    }
    paged = rows.isEmpty() ? paged : Math.max(paged, rows.get(rows.size() - 1).index());
    lastPage |= last;
    advanceLow();
  }

  /** A retry whose pages are not all in, and fewer than {@code window} of them are waiting to be sent. */
  boolean wantsPage(int window) {
    return only != null && !lastPage && unsent < window;
  }

  /** What a retried record's error row counted (null for a record this retry has not paged in, or that has ended). */
  io.skein.coordinator.store.JobStore.FailedRow prior(long index) {
    return prior.get(index);
  }

  /** In a retry: the last index paged in, after which the next page starts. */
  long paged() {
    return paged;
  }

  /** A retry whose every record has been sent (false when not a retry). */
  boolean allSent() {
    return only != null && lastPage && unsent == 0;
  }

  /** A retry whose every record has ended. */
  boolean retryDone() {
    return only != null && lastPage && only.isEmpty();
  }

  boolean retrying() {
    return only != null;
  }

  /**
   * The records to send their first {@code Ensure} now, in order, below {@code limit}, while fewer
   * than {@code window} are in flight and fewer than {@code maxStarting} starting; each is then in
   * flight and starting since {@code now}.
   */
  List<Long> next(int window, long limit, long now) {
    List<Long> send = new ArrayList<>();
    while (inFlight.size() < window && starting.size() < maxStarting) {
      Long next = only == null ? Long.valueOf(sentUpTo) : only.ceiling(sentUpTo);
      if (next == null || next >= limit) {
        break;
      }
      long index = next;
      sentUpTo = index + 1;
      unsent -= only == null ? 0 : 1;
      if (index >= low && !endedAhead.contains(index) && !blocked.containsKey(index)) {
        inFlight.put(index, now);
        starting.add(index);
        send.add(index);
      }
    }
    return send;
  }

  /** The record has ended already, or is below the low mark: a report of it is a duplicate. */
  boolean hasEnded(long index) {
    return only != null ? !only.contains(index) : index < low || endedAhead.contains(index);
  }

  /** The record was heard from; true if that was the first word since it was sent (it is no longer starting). */
  boolean heardFrom(long index) {
    return starting.remove(index);
  }

  boolean isInFlight(long index) {
    return inFlight.containsKey(index);
  }

  /** The record ended (an output or error row): it leaves the window, and the low mark moves past it when it can. */
  void ended(long index) {
    inFlight.remove(index);
    blocked.remove(index);
    starting.remove(index);
    if (only != null) {
      unsent -= only.remove(index) && index >= sentUpTo ? 1 : 0;
      prior.remove(index);
    } else {
      endedAhead.add(index);
    }
    advanceLow();
  }

  /** The record is blocked until a resume; true if it was not blocked already. */
  boolean blocked(RecordBlocked report) {
    inFlight.remove(report.index());
    return blocked.put(report.index(), report) == null;
  }

  /** On a resume: the blocked records are in flight again since {@code now}; returns them, to be sent Ensure. */
  List<Long> unblock(long now) {
    List<Long> again = new ArrayList<>(blocked.keySet());
    again.forEach(index -> inFlight.put(index, now));
    blocked.clear();
    return again;
  }

  /** On a cancel: every record in flight or blocked, which are forgotten. */
  Set<Long> cancel() {
    Set<Long> running = new HashSet<>(inFlight.keySet());
    running.addAll(blocked.keySet());
    inFlight.clear();
    blocked.clear();
    starting.clear();
    return running;
  }

  /** Records in flight last sent Ensure before {@code before}: they are sent another, as of {@code now}. */
  List<Long> stale(long before, long now) {
    List<Long> again = new ArrayList<>();
    for (Map.Entry<Long, Long> e : inFlight.entrySet()) {
      if (e.getValue() < before) {
        e.setValue(now);
        again.add(e.getKey());
      }
    }
    return again;
  }

  /** Every record in flight, to be sent Ensure as of {@code now} (a member that may have held some was removed). */
  List<Long> everyInFlight(long now) {
    return stale(Long.MAX_VALUE, now);
  }

  long low() {
    return low;
  }

  /** The next index to send. */
  long sentUpTo() {
    return sentUpTo;
  }

  int inFlight() {
    return inFlight.size();
  }

  int starting() {
    return starting.size();
  }

  boolean hasBlocked() {
    return !blocked.isEmpty();
  }

  int blockedCount() {
    return blocked.size();
  }

  /** The blocked record most recently reported. */
  RecordBlocked lastBlocked() {
    RecordBlocked last = null;
    for (RecordBlocked b : blocked.values()) {
      last = b;
    }
    return last;
  }

  private void advanceLow() {
    if (only != null) {
      low = only.isEmpty() ? paged + 1 : only.first();
      return;
    }
    while (endedAhead.remove(low)) {
      low++;
    }
  }
}

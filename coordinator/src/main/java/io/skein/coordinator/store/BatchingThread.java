package io.skein.coordinator.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A thread of its own that hands what was queued to {@code handle} in batches: whatever arrives
 * while one batch is handled makes up the next (at most {@code maxBatch}), so a batch costs no
 * waiting when the load is light and one round trip for many items when it is heavy. On close it
 * drains what is queued, waiting at most five seconds. If {@code handle} throws anything, an
 * {@code Error} included, that batch goes to {@code failed} (which completes its futures) and the
 * thread goes on: a thread that died while {@code add} kept accepting would leave every later
 * caller waiting forever.
 */
final class BatchingThread<T> implements AutoCloseable {

  /** Queued last by {@link #close}: wakes the thread at once, which then drains what is left and ends. */
  private static final Object CLOSE = new Object();

  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final int maxBatch;
  private final Consumer<List<T>> handle;
  private final BiConsumer<List<T>, Throwable> failed;
  private final Thread thread;
  private volatile boolean running = true;

  BatchingThread(String name, int maxBatch, Consumer<List<T>> handle, BiConsumer<List<T>, Throwable> failed) {
    this.maxBatch = maxBatch;
    this.handle = handle;
    this.failed = failed;
    this.thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues {@code item}; false once closed (nothing will handle it). */
  boolean add(T item) {
    if (!running) {
      return false;
    }
    queue.add(item);
    return true;
  }

  @SuppressWarnings("unchecked")
  private void loop() {
    List<Object> drained = new ArrayList<>(maxBatch);
    List<T> batch = new ArrayList<>(maxBatch);
    boolean closing = false;
    while (true) {
      try {
        Object first = closing ? queue.poll() : queue.take();
        if (first == null) {
          return;
        }
        drained.add(first);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      queue.drainTo(drained, maxBatch - 1);
      for (Object item : drained) {
        if (item == CLOSE) {
          closing = true;
        } else {
          batch.add((T) item);
        }
      }
      drained.clear();
      if (!batch.isEmpty()) {
        handle(batch);
        batch.clear();
      }
    }
  }

  private void handle(List<T> batch) {
    try {
      handle.accept(batch);
    } catch (Throwable t) {
      try {
        failed.accept(batch, t);
      } catch (Throwable ignored) {
        // Nothing more can be done for this batch; the next one still runs.
      }
    }
  }

  @Override
  public void close() {
    running = false;
    queue.add(CLOSE);
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A batch whose handler throws, even an Error, fails that batch only: later work is still handled;
 * closing hands every item queued before it to the handler, and nothing queued after.
 */
class BatchingThreadTest {

  private record Item(String name, CompletableFuture<String> done) {}

  @Test
  void anErrorInTheHandlerFailsItsBatchAndTheThreadGoesOn() throws Exception {
    try (BatchingThread<Item> thread = new BatchingThread<>("test-batches", 10,
        batch -> batch.forEach(i -> {
          if (i.name().equals("poison")) {
            throw new StackOverflowError("a handler that dies");
          }
          i.done().complete("handled " + i.name());
        }),
        (batch, error) -> batch.forEach(i -> i.done().completeExceptionally(error)))) {
      Item poison = new Item("poison", new CompletableFuture<>());
      thread.add(poison);
      Throwable error = poison.done().handle((ok, e) -> e).get(5, TimeUnit.SECONDS);
      assertInstanceOf(StackOverflowError.class, error);
      List<Item> later = List.of(new Item("a", new CompletableFuture<>()), new Item("b", new CompletableFuture<>()));
      later.forEach(thread::add);
      for (Item i : later) {
        assertEquals("handled " + i.name(), i.done().get(5, TimeUnit.SECONDS), "the thread still runs");
      }
    }
  }

  @Test
  void closeHandsOnWhatWasQueuedAndRefusesWhatComesAfter() throws Exception {
    List<String> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Void> release = new CompletableFuture<>();
    BatchingThread<String> thread = new BatchingThread<>("test-close", 2, batch -> {
      release.join();
      handled.addAll(batch);
    }, (batch, error) -> { });
    List<String> queued = List.of("a", "b", "c", "d", "e");
    queued.forEach(thread::add);
    CompletableFuture<Void> closed = CompletableFuture.runAsync(thread::close);
    release.complete(null);
    closed.get(5, TimeUnit.SECONDS);
    assertEquals(queued, handled, "every item queued before close, in order, in batches of at most 2");
    assertEquals(false, thread.add("late"), "a closed thread takes nothing");
  }
}

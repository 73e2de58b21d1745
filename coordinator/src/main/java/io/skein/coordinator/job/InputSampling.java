package io.skein.coordinator.job;

import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.InputSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Which input rows become records, and in what order: {@code ordered} (file order, cycling when
 * more records are asked for than the file has, as Data Designer does), {@code shuffle} (a
 * permutation drawn from the spec's seed, a new one each cycle) or {@code replace} (drawn with
 * replacement); {@code count} records (null: one per row), at most {@code limit}. Records are
 * numbered anew from 0, and a row drawn again has its {@code id} suffixed with {@code -<repeat>}.
 * A {@code selection} keeps only its rows before any is drawn (shuffled within it, as Data Designer
 * does). Ordered input without a count or a selection streams; the others read every row first.
 */
public final class InputSampling {

  private InputSampling() {}

  public static Iterator<InputRow> apply(Iterator<InputRow> rows, String sampling, Long count, Long limit, long seed) {
    return apply(rows, sampling, count, limit, seed, null);
  }

  public static Iterator<InputRow> apply(Iterator<InputRow> rows, String sampling, Long count, Long limit, long seed,
      InputSpec.Selection selection) {
    String how = sampling == null ? "ordered" : sampling;
    long max = limit == null ? Long.MAX_VALUE : limit;
    if (streams(how, count, selection)) {
      return renumber(rows, max);
    }
    List<InputRow> read = new ArrayList<>();
    rows.forEachRemaining(read::add);
    List<InputRow> all = selection == null ? read : selected(read, selection);
    long wanted = Math.min(max, count == null ? all.size() : count);
    if (all.isEmpty()) {
      return List.<InputRow>of().iterator();
    }
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int[] drawn = new int[all.size()];
    return new Iterator<>() {
      private long i;
      private int[] order;

      @Override
      public boolean hasNext() {
        return i < wanted;
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int n = all.size();
        int pick = switch (how) {
          case "replace" -> random.nextInt(n);
          case "shuffle" -> {
            if (i % n == 0) {
              order = permutation(n, random);
            }
            yield order[(int) (i % n)];
          }
          default -> (int) (i % n);
        };
        InputRow row = all.get(pick);
        int repeat = drawn[pick]++;
        return new InputRow(i++, repeat == 0 ? row.record() : repeated(row.record(), repeat), row.error());
      }
    };
  }

  /** Whether rows drawn this way stream (ordered, no count, no selection): each row read is drawn once, in its place. */
  static boolean streams(String sampling, Long count, InputSpec.Selection selection) {
    return (sampling == null || sampling.equals("ordered")) && count == null && selection == null;
  }

  private static List<InputRow> selected(List<InputRow> rows, InputSpec.Selection selection) {
    long[] range = selection.rows(rows.size());
    return range[0] > range[1] || range[0] >= rows.size() ? List.of() : rows.subList((int) range[0], (int) range[1] + 1);
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * A row drawn again: its {@code id}, if it has one, becomes {@code <id>-<repeat>} (the first draw
   * keeps it as it is), so rows stay one per id however often a record is drawn.
   */
  static String repeated(String record, int repeat) {
    if (record == null) {
      return null;
    }
    try {
      var node = JSON.readTree(record);
      if (node instanceof com.fasterxml.jackson.databind.node.ObjectNode o && o.hasNonNull("id") && o.get("id").isValueNode()) {
        o.put("id", o.get("id").asText() + "-" + repeat);
        return o.toString();
      }
      return record;
    } catch (java.io.IOException e) {
      return record;
    }
  }

  private static int[] permutation(int n, SplittableRandom random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private static Iterator<InputRow> renumber(Iterator<InputRow> rows, long max) {
    return new Iterator<>() {
      private long i;

      @Override
      public boolean hasNext() {
        return i < max && rows.hasNext();
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        InputRow row = rows.next();
        return new InputRow(i++, row.record(), row.error());
      }
    };
  }
}

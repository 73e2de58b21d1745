package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobStore.LedgerRow;
import io.skein.coordinator.store.StageStore.Made;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StageFeedTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A stage reading the rows of stage job {@code src}, after a setup job {@code setup}. */
  private static FeedSpec from(String explodePath, String explodeAs, String filter) {
    return new FeedSpec(1, "job-src", "job-setup", explodePath, explodeAs, filter);
  }

  private static LedgerRow ok(long index, String row) {
    return new LedgerRow(index, true, row, null);
  }

  private static LedgerRow failed(long index, String row) {
    return new LedgerRow(index, false, row, "the step failed");
  }

  private static List<JsonNode> trees(Made made) {
    return made.records().stream().map(r -> tree(r.record())).toList();
  }

  private static JsonNode tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  @Test
  void withoutExplodeOrFilterRowsPassThroughUnchanged() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"sea\",\"subject\":\"the sea\",\"ideas\":{\"items\":[\"waves\"]}}"),
        ok(1, "{\"id\":\"city\",\"subject\":\"a city\",\"n\":3}"));
    Made made = StageFeed.apply(from(null, null, null), rows, Map.of());
    assertEquals(List.of(tree(rows.get(0).row()), tree(rows.get(1).row())), trees(made), "one record per row, the row itself");
    assertEquals(0, made.filtered());
    assertEquals(0, made.upstreamFailed());
    assertEquals(0, made.empty());
  }

  @Test
  void errorRowsMakeNoRecordsAndAreCounted() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"score\":5}"),
        failed(1, "{\"id\":\"b\",\"error\":\"boom\"}"),
        failed(2, "{\"id\":\"c\",\"error\":\"boom\"}"),
        ok(3, "{\"id\":\"d\",\"score\":1}"));
    Made made = StageFeed.apply(from(null, null, null), rows, Map.of());
    assertEquals(List.of("a", "d"), trees(made).stream().map(t -> t.path("id").asText()).toList(), "error rows make nothing");
    assertEquals(2, made.upstreamFailed(), "each error row is counted");
    assertEquals(0, made.filtered());
    assertEquals(0, made.empty());
  }

  @Test
  void anErrorRowIsNotExplodedEvenIfItHasTheList() {
    Made made = StageFeed.apply(from("items", "item", null), List.of(failed(0, "{\"id\":\"a\",\"items\":[1,2]}")), Map.of());
    assertEquals(List.of(), made.records());
    assertEquals(1, made.upstreamFailed());
    assertEquals(0, made.empty(), "an error row counts as failed, not as empty");
  }

  @Test
  void aFilterDropsRowsItDoesNotHoldFor() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"score\":5}"),
        ok(1, "{\"id\":\"b\",\"score\":2}"),
        ok(2, "{\"id\":\"c\",\"score\":3}"));
    Made made = StageFeed.apply(from(null, null, "score >= 3"), rows, Map.of());
    assertEquals(List.of("a", "c"), trees(made).stream().map(t -> t.path("id").asText()).toList(), "score 2 is dropped");
    assertEquals(tree(rows.get(0).row()), trees(made).get(0), "a kept row passes unchanged");
    assertEquals(1, made.filtered(), "the dropped row is counted as filtered");
    assertEquals(0, made.upstreamFailed());
  }

  @Test
  void aFilterMayReadExtraValues() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"score\":5}"),
        ok(1, "{\"id\":\"b\",\"score\":3}"),
        ok(2, "{\"id\":\"c\",\"score\":4}"));
    Made made = StageFeed.apply(from(null, null, "score >= setup.min"), rows, Map.of("setup", Map.of("min", 4L)));
    assertEquals(List.of("a", "c"), trees(made).stream().map(t -> t.path("id").asText()).toList(), "the threshold comes from setup.min");
    assertEquals(1, made.filtered());

    Made higher = StageFeed.apply(from(null, null, "score >= setup.min"), rows, Map.of("setup", Map.of("min", 5L)));
    assertEquals(List.of("a"), trees(higher).stream().map(t -> t.path("id").asText()).toList(), "another setup row, another cut");
    assertEquals(2, higher.filtered());
  }

  @Test
  void aRowWithoutTheFieldTheFilterReadsIsNotKept() {
    Made made = StageFeed.apply(from(null, null, "score >= 3"), List.of(ok(0, "{\"id\":\"a\"}")), Map.of());
    assertEquals(List.of(), made.records(), "a missing value compares false, as in `when:`");
    assertEquals(1, made.filtered());
  }

  @Test
  void aRowTheFilterCannotBeEvaluatedForBecomesAnErrorRowSayingWhy() {
    String filter = "range(n * 600) | length > 0";
    List<LedgerRow> rows = List.of(ok(0, "{\"id\":\"a\",\"n\":2}"), ok(1, "{\"id\":\"b\",\"n\":1}"));
    Made made = StageFeed.apply(from(null, null, filter), rows, Map.of());
    assertEquals(List.of("a", "b"), trees(made).stream().map(t -> t.path("id").asText()).toList(), "the row is not dropped");
    String why = made.records().get(0).error();
    assertTrue(why != null && why.contains("filter `" + filter + "` could not be evaluated") && why.contains("at most 1000"), why);
    assertEquals(null, made.records().get(1).error(), "a row it can judge is kept as it is");
    assertEquals(0, made.filtered(), "a row the filter could not judge is not counted as filtered");
  }

  @Test
  void aFilterOfStringsWorks() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"answer\":\"a long enough answer\"}"),
        ok(1, "{\"id\":\"b\",\"answer\":\"no\"}"));
    Made made = StageFeed.apply(from(null, null, "answer | length >= 10"), rows, Map.of());
    assertEquals(List.of("a"), trees(made).stream().map(t -> t.path("id").asText()).toList());
    assertEquals(1, made.filtered());
  }

  @Test
  void explodeMakesOneRecordPerElementWithTheParentsFields() {
    String parent = "{\"id\":\"sea\",\"subject\":\"the sea\",\"ideas\":{\"items\":[\"waves\",{\"t\":\"tide\"},3]}}";
    Made made = StageFeed.apply(from("ideas.items", "idea", null), List.of(ok(0, parent)), Map.of());
    List<JsonNode> out = trees(made);
    assertEquals(3, out.size(), "one record per element: " + out);
    for (int i = 0; i < 3; i++) {
      JsonNode child = out.get(i);
      assertEquals("sea-" + i, child.path("id").asText(), "ids are <parent id>-<i>");
      assertEquals("the sea", child.path("subject").asText(), "the parent's fields are kept");
      assertEquals(tree(parent).get("ideas"), child.get("ideas"), "the parent's fields are kept, the list too");
      assertEquals("sea", child.path("parent_id").asText(), "the parent's id is parent_id");
    }
    assertEquals(JSON.getNodeFactory().textNode("waves"), out.get(0).get("idea"), "the element is under `as`");
    assertEquals(tree("{\"t\":\"tide\"}"), out.get(1).get("idea"), "an object element stays an object");
    assertEquals(3, out.get(2).get("idea").asInt(), "a number element stays a number");
    assertEquals(tree("{\"id\":\"sea-0\",\"subject\":\"the sea\",\"ideas\":{\"items\":[\"waves\",{\"t\":\"tide\"},3]},"
        + "\"idea\":\"waves\",\"parent_id\":\"sea\"}"), out.get(0), "nothing else is added");
    assertEquals(0, made.empty());
    assertEquals(0, made.filtered());
  }

  @Test
  void explodeNumbersEachParentsElementsInRowOrder() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"topics\":[\"x\",\"y\"]}"),
        ok(1, "{\"id\":\"b\",\"topics\":[\"z\"]}"));
    Made made = StageFeed.apply(from("topics", "topic", null), rows, Map.of());
    assertEquals(List.of("a-0", "a-1", "b-0"), trees(made).stream().map(t -> t.path("id").asText()).toList());
    assertEquals(List.of("x", "y", "z"), trees(made).stream().map(t -> t.path("topic").asText()).toList());
  }

  @Test
  void aNumericParentIdKeepsItsTypeInParentId() {
    Made made = StageFeed.apply(from("topics", "topic", null), List.of(ok(0, "{\"id\":7,\"topics\":[\"x\"]}")), Map.of());
    JsonNode child = trees(made).get(0);
    assertEquals("7-0", child.path("id").asText());
    assertTrue(child.get("parent_id").isNumber(), "parent_id is the parent's id as it was: " + child);
  }

  @Test
  void aMissingEmptyOrNonListExplodeFieldMakesNone() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"missing\"}"),
        ok(1, "{\"id\":\"empty\",\"ideas\":{\"items\":[]}}"),
        ok(2, "{\"id\":\"text\",\"ideas\":{\"items\":\"not a list\"}}"),
        ok(3, "{\"id\":\"object\",\"ideas\":{\"items\":{\"a\":1}}}"),
        ok(4, "{\"id\":\"halfway\",\"ideas\":\"no items here\"}"),
        ok(5, "{\"id\":\"null\",\"ideas\":{\"items\":null}}"),
        ok(6, "{\"id\":\"good\",\"ideas\":{\"items\":[1]}}"));
    Made made = StageFeed.apply(from("ideas.items", "idea", null), rows, Map.of());
    assertEquals(List.of("good-0"), trees(made).stream().map(t -> t.path("id").asText()).toList(), "only the real list explodes");
    assertEquals(6, made.empty(), "each row whose field is missing, empty or not a list is counted empty");
    assertEquals(0, made.filtered());
    assertEquals(0, made.upstreamFailed());
  }

  @Test
  void aFilterIsAppliedToTheParentBeforeExplode() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"score\":5,\"topics\":[\"x\",\"y\"]}"),
        ok(1, "{\"id\":\"b\",\"score\":1,\"topics\":[\"z\"]}"),
        ok(2, "{\"id\":\"c\",\"score\":5,\"topics\":[]}"));
    Made made = StageFeed.apply(from("topics", "topic", "score >= 3"), rows, Map.of());
    assertEquals(List.of("a-0", "a-1"), trees(made).stream().map(t -> t.path("id").asText()).toList());
    assertEquals(1, made.filtered(), "b is filtered out, not counted empty");
    assertEquals(1, made.empty(), "c passes the filter but has no topics");
  }

  @Test
  void childrenOfTheSetupRowCarryOnlyIdElementAndParentId() {
    FeedSpec ofSetup = new FeedSpec(1, "job-setup", "job-setup", "facts.items", "fact", null);
    assertTrue(ofSetup.fromSetup(), "a stage whose source is the setup job reads the setup row");
    String setupRow = "{\"id\":\"0\",\"facts\":{\"items\":[{\"claim\":\"c1\"},{\"claim\":\"c2\"}]},\"doc\":\"a long text\"}";
    Made made = StageFeed.apply(ofSetup, List.of(ok(0, setupRow)), Map.of());
    assertEquals(List.of(
            tree("{\"id\":\"0-0\",\"fact\":{\"claim\":\"c1\"},\"parent_id\":\"0\"}"),
            tree("{\"id\":\"0-1\",\"fact\":{\"claim\":\"c2\"},\"parent_id\":\"0\"}")),
        trees(made), "the setup row's fields are read as setup.*, so the children do not copy them");
  }

  @Test
  void theSameRowsAlwaysMakeTheSameRecords() {
    List<LedgerRow> rows = List.of(
        ok(0, "{\"id\":\"a\",\"score\":5,\"topics\":[\"x\",\"y\"],\"m\":{\"k\":[1,2]}}"),
        failed(1, "{\"id\":\"b\",\"error\":\"e\"}"),
        ok(2, "{\"id\":\"c\",\"score\":4,\"topics\":[\"z\"]}"),
        ok(3, "{\"id\":\"d\",\"score\":1,\"topics\":[\"w\"]}"));
    FeedSpec spec = from("topics", "topic", "score >= 3");
    Made first = StageFeed.apply(spec, rows, Map.of());
    Made again = StageFeed.apply(spec, rows, Map.of());
    assertEquals(first, again, "records and counts are the same, byte for byte");

    List<JsonNode> inBatches = new ArrayList<>(trees(StageFeed.apply(spec, rows.subList(0, 2), Map.of())));
    inBatches.addAll(trees(StageFeed.apply(spec, rows.subList(2, 4), Map.of())));
    assertEquals(trees(first), inBatches, "reading the rows in two runs (as after a crash) numbers nothing differently");
  }
}

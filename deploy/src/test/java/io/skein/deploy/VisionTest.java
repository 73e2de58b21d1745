package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code images:} end to end, over HTTP against the simulator: each image reaches the model as an
 * OpenAI {@code image_url} content part with the prompt (a URL as the URL, base64 as a data: URI),
 * the journal keeps what was sent (the annotated rows show it), a record whose field is no image is
 * an error row saying so, and a spec naming an unknown field is refused before anything runs.
 */
class VisionTest {

  static final String PNG = Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13});

  @Test
  void imagesGoWithThePromptAndWhatIsNoImageIsAnErrorRow() throws Exception {
    try (SkeinNode node = TestNodes.withSimulatorLatency("vision-test", "2ms")) {
      Http http = new Http(node.httpPort());
      String spec = """
          name: vision
          models: {eye: {model: sim-large, max_tokens: 60}}
          steps:
            - name: caption
              model: eye
              prompt: "Describe product {{ sku }}."
              images: ["https://img.example.com/{{ sku }}.png", {field: photo}]
              with_trace: all
            - {name: alt, model: eye, prompt: "Alt text for: {{ caption }}"}
          """;
      String records = """
          {"id": "a", "sku": "A-1", "photo": "%s"}
          {"id": "b", "sku": "B-2", "photo": "https://img.example.com/side/B-2.jpg"}
          {"id": "c", "sku": "C-3", "photo": "no image here"}
          """.formatted(PNG);
      Http.Response created = http.multipart("/jobs", spec, records);
      assertEquals(201, created.status(), created.body());
      String id = created.json().get("id").asText();
      JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
      assertEquals(2, done.get("succeeded").asInt(), done.toString());

      for (JsonNode row : http.get("/jobs/" + id + "/results?annotated=true").lines()) {
        String sku = row.at("/input/sku").asText(row.path("sku").asText());
        JsonNode call = row.get("calls").get(0);
        assertEquals("caption", call.get("step").asText());
        JsonNode sent = call.get("messages").get(0);
        String photo = sku.equals("A-1") ? "data:image/png;base64," + PNG : "https://img.example.com/side/B-2.jpg";
        assertEquals(List.of("https://img.example.com/" + sku + ".png", photo), strings(sent.get("images")), "the journal keeps what was sent");
        assertTrue(call.get("response").asText().contains("Seen 2 images."), "the model got both: " + call);
        assertEquals(1, row.get("calls").get(1).get("messages").size(), "the next step sends no image: " + row);
      }
      JsonNode error = http.get("/jobs/" + id + "/errors").lines().get(0);
      assertEquals("template_error", error.at("/error/type").asText(), error.toString());
      assertTrue(error.at("/error/message").asText().contains("images[1] (field `photo`): base64 that is not a png, jpeg, gif or webp image"),
          error.toString());
      assertEquals(2 * 2, node.simulator().stats().requests(), "no call for the record whose photo is no image");

      Http.Response bad = http.multipart("/jobs", spec.replace("{field: photo}", "{field: picture}"), records);
      assertEquals(400, bad.status(), bad.body());
      assertTrue(bad.body().contains("steps[0] (caption).images[1].field") && bad.body().contains("`picture`"), bad.body());
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new java.util.ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}

package io.skein.worker.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.template.TemplateException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code images:}: what each entry reads, and what a value that is no image says, by Data Designer's ImageContext rules. */
class ImagesTest {

  static final String PNG = Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
  static final String JPEG = Base64.getEncoder().encodeToString(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0});
  static final String TEXT = Base64.getEncoder().encodeToString("not an image at all".getBytes());

  @Test
  void urlsTemplatesListsAndBase64BecomeUrlsOrDataUris() {
    List<Images.Source> sources = Images.read(step("""
        {"images": ["{{ base }}/a.png", {"field": "shots"}, {"field": "photo"}, {"field": "scan", "type": "base64", "format": "jpg"}]}
        """));
    Map<String, Object> record = Map.of("base", "https://example.com", "shots", List.of("https://example.com/1.png", "data:image/gif;base64,R0lGODdh"),
        "photo", PNG, "scan", "  " + JPEG + "\n");
    assertEquals(List.of("https://example.com/a.png", "https://example.com/1.png", "data:image/gif;base64,R0lGODdh",
        "data:image/png;base64," + PNG, "data:image/jpeg;base64," + JPEG), Images.resolve(sources, record));
    assertEquals(Map.of("images[0]", "{{ base }}/a.png"), Images.templates(sources));
    assertEquals(Map.of("images[1].field", "shots", "images[2].field", "photo", "images[3].field", "scan"), Images.names(sources));
  }

  @Test
  void aFieldMayHoldAJsonListAsText() {
    List<Images.Source> one = Images.read(step("{\"images\": {\"field\": \"shots\"}}"));
    assertEquals(List.of("https://a.example/x.webp", "https://b.example/y.png"),
        Images.resolve(one, Map.of("shots", "[\"https://a.example/x.webp\", \"https://b.example/y.png\"]")));
    assertEquals(Map.of("images.field", "shots"), Images.names(one));
  }

  @Test
  void whatIsNoImageFailsTheRenderSayingWhichEntryAndWhy() {
    assertEquals("images (field `photo`): base64 that is not a png, jpeg, gif or webp image; give `format` if it is one",
        fails("{\"images\": {\"field\": \"photo\"}}", Map.of("photo", TEXT)));
    assertEquals("images (field `photo`): is empty: no image to send", fails("{\"images\": {\"field\": \"photo\"}}", Map.of()));
    assertEquals("images: renders to `ftp://example.com/a.png`, which is neither an http(s) URL nor a data:image URI",
        fails("{\"images\": \"ftp://example.com/{{ name }}\"}", Map.of("name", "a.png")));
    assertEquals("images: renders to nothing, which is neither an http(s) URL nor a data:image URI",
        fails("{\"images\": \"{{ blank }}\"}", Map.of("blank", "")));
    assertEquals("images (field `u`): `/tmp/a.png` is not an http(s) URL",
        fails("{\"images\": {\"field\": \"u\", \"type\": \"url\"}}", Map.of("u", "/tmp/a.png")));
    assertEquals("images (field `u`): format png does not match the data: URI's image/jpeg",
        fails("{\"images\": {\"field\": \"u\", \"format\": \"png\"}}", Map.of("u", "data:image/jpeg;base64," + JPEG)));
    assertTrue(fails("{\"images\": {\"field\": \"u\"}}", Map.of("u", "%%%")).startsWith("images (field `u`): neither an http(s) URL nor base64"));
    assertEquals("images (field `u`): holds integer, not an image (a URL, base64 or a data: URI, or a list of them)",
        fails("{\"images\": {\"field\": \"u\"}}", Map.of("u", 7)));
  }

  @Test
  void formatsAreReadFromTheirFirstBytes() {
    assertEquals("png", Images.detect(Base64.getDecoder().decode(PNG)));
    assertEquals("jpeg", Images.detect(Base64.getDecoder().decode(JPEG)));
    assertEquals("gif", Images.detect("GIF89a".getBytes()));
    assertEquals("webp", Images.detect("RIFF\0\0\0\0WEBPVP8 ".getBytes()));
    assertEquals(null, Images.detect("RIFF\0\0\0\0WAVE".getBytes()));
  }

  private static String fails(String config, Map<String, Object> record) {
    return assertThrows(TemplateException.class, () -> Images.resolve(Images.read(step(config)), record)).getMessage();
  }

  private static StepSpec step(String json) {
    ObjectNode config = Json.object(json);
    return new StepSpec("look", "llm", 0, null, 1, false, "none", false, config);
  }
}

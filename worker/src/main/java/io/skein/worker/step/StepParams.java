package io.skein.worker.step;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.victools.jsonschema.generator.Option;
import com.github.victools.jsonschema.generator.OptionPreset;
import com.github.victools.jsonschema.generator.SchemaGenerator;
import com.github.victools.jsonschema.generator.SchemaGeneratorConfigBuilder;
import com.github.victools.jsonschema.generator.SchemaVersion;
import com.github.victools.jsonschema.module.jackson.JacksonModule;
import com.github.victools.jsonschema.module.jackson.JacksonOption;
import io.skein.protocol.spec.StepSpec;

/**
 * A step's own keys as a Java record (or bean), for kinds written in Java: the JSON Schema of its
 * keys generated from the type (victools), and the step's keys bound to it by Jackson. A component
 * {@code maxRounds} is the key {@code max_rounds} unless {@code @JsonProperty} names it;
 * {@code @JsonProperty(required = true)} makes a key required, {@code @JsonPropertyDescription}
 * documents it (in {@code skein schema}).
 */
public final class StepParams {

  private static final ObjectMapper BINDER = Json.MAPPER.copy()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES); // the keys every step has; the schema checked the rest
  private static final SchemaGenerator GENERATOR = generator();

  private StepParams() {}

  /** {@code {"properties": {...}, "required": [...]}} for {@code type}'s keys, every schema inlined. */
  public static ObjectNode schema(Class<?> type) {
    ObjectNode generated = GENERATOR.generateSchema(type);
    ObjectNode schema = Json.MAPPER.createObjectNode();
    schema.set("properties", generated.path("properties").isObject() ? generated.get("properties") : Json.MAPPER.createObjectNode());
    if (generated.path("required").isArray()) {
      schema.set("required", generated.get("required"));
    }
    return schema;
  }

  /**
   * The step's keys as a {@code type}, or null after adding to {@code problems} what does not fit
   * (at the key's path, e.g. {@code steps[1] (story).rounds}).
   */
  public static <P> P bind(StepSpec step, Class<P> type, Problems problems) {
    try {
      return BINDER.treeToValue(step.config(), type);
    } catch (JsonMappingException e) {
      problems.at(step, path(e), e.getOriginalMessage());
      return null;
    } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
      problems.at(step, "", e.getMessage());
      return null;
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  private static SchemaGenerator generator() {
    SchemaGeneratorConfigBuilder config = new SchemaGeneratorConfigBuilder(Json.MAPPER, SchemaVersion.DRAFT_2020_12, OptionPreset.PLAIN_JSON)
        .with(new JacksonModule(JacksonOption.RESPECT_JSONPROPERTY_REQUIRED))
        .with(Option.NONPUBLIC_NONSTATIC_FIELDS_WITHOUT_GETTERS, Option.INLINE_ALL_SCHEMAS, Option.FORBIDDEN_ADDITIONAL_PROPERTIES_BY_DEFAULT)
        .without(Option.SCHEMA_VERSION_INDICATOR);
    config.forFields().withPropertyNameOverrideResolver(field -> {
      JsonProperty named = field.getAnnotationConsideringFieldAndGetter(JsonProperty.class);
      boolean explicit = named != null && !named.value().isEmpty();
      return explicit ? null : ((PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE).translate(field.getName());
    });
    return new SchemaGenerator(config.build());
  }
}

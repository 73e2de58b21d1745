package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenEstimatesTest {

  @Test
  void openAiModelsAreCountedWithTheirOwnTokenizer() {
    // tiktoken: "hello world" is 2 tokens in cl100k_base and o200k_base alike; the text below is 10 in cl100k_base.
    assertEquals(2, TokenEstimates.count("gpt-4o-mini", "hello world"));
    assertEquals(2, TokenEstimates.count("openai/gpt-4.1-2025-04-14", "hello world"));
    assertEquals(10, TokenEstimates.count("gpt-4", "The quick brown fox jumps over the lazy dog."));
    assertEquals(2, TokenEstimates.count("gpt-3.5-turbo-0125", "hello world"));
    assertTrue(TokenEstimates.knows("o3-mini"));
  }

  @Test
  void otherModelsAreEstimatedAsCharactersOverFour() {
    assertFalse(TokenEstimates.knows("meta-llama/Llama-3.1-8B-Instruct"));
    assertEquals(11, TokenEstimates.count("meta-llama/Llama-3.1-8B-Instruct", "The quick brown fox jumps over the lazy dog."));
    assertEquals(2, TokenEstimates.count("sim-small", "hello world"));
  }
}

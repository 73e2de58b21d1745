package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (Debian's headless Chromium, driven by Selenium): a job submitted
 * over the API shows in the jobs list, its page follows it live, the Pause and Resume buttons pause
 * and resume it, its progress bar reaches 100%, and an error row opens the record's whole history.
 * Screenshots land in {@code target/screenshots/}. Skipped, saying so, where Chromium or its driver
 * is not installed ({@code .ci/run} installs them: Debian's {@code chromium} and {@code chromium-driver}).
 */
class DashboardBrowserTest {

  private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("SKEIN_TEST_CHROMIUM", "/usr/bin/chromium"));
  private static final Path DRIVER = Path.of(System.getenv().getOrDefault("SKEIN_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"));
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static SkeinNode node;
  private static WebDriver browser;

  @BeforeAll
  static void start() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "the browser tests need Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver; or set"
            + " SKEIN_TEST_CHROMIUM and SKEIN_TEST_CHROMEDRIVER): not found at " + CHROMIUM + " and " + DRIVER);
    node = TestNodes.withSimulatorLatency("dashboard", "60ms");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (node != null) {
      node.close();
    }
  }

  private static WebElement await(By what) {
    return new WebDriverWait(browser, WAIT).until(ExpectedConditions.visibilityOfElementLocated(what));
  }

  private static void awaitText(By what, String text) {
    new WebDriverWait(browser, WAIT).until(ExpectedConditions.textToBe(what, text));
  }

  /** When the job page says its job finished, as the API wrote it. */
  private static String finishedShown() {
    return browser.findElement(By.id("job-stats")).getAttribute("data-finished");
  }

  private static void screenshot(String name) throws Exception {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Path dir = Files.createDirectories(Path.of("target", "screenshots"));
    Files.copy(shot.toPath(), dir.resolve("dashboard-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void aJobIsWatchedPausedResumedToItsEndAndAnErrorRowOpensItsHistory() throws Exception {
    Http http = new Http(node.httpPort());
    int records = 300;
    String id = http.submitJob("""
        name: watched-in-a-browser
        models: {writer: {model: sim-small, max_tokens: 20}}
        max_in_flight: 6
        steps:
          - {name: question, model: writer, prompt: "Ask about {{ topic }}"}
          - {name: asked, kind: expression, expr: "{{ topic }}: {{ question | length > 0 }}"}
          - {name: topic_ok, kind: validator, validator: regex, target: asked, pattern: "^topic [0-9]*[1-9]: true$", on_fail: error}
          - {name: answer, model: writer, prompt: "{{ question }}"}
        """, Http.topics("b", records));
    String base = "http://127.0.0.1:" + node.httpPort();

    // The jobs list shows it; a click opens its page.
    browser.get(base + "/");
    WebElement row = await(By.cssSelector("#jobs tr[data-job='" + id + "']"));
    assertTrue(row.getText().contains("watched-in-a-browser"), row.getText());
    screenshot("jobs");
    row.click();
    await(By.cssSelector("#job-state [data-state='running']"));

    // Pause from the button: the job says paused, its records in flight drain, and it stops short of the end.
    await(By.id("pause")).click();
    await(By.cssSelector("#job-state [data-state='paused']"));
    awaitText(By.cssSelector("[data-stat='in flight']"), "0");
    JsonNode paused = http.get("/jobs/" + id).json();
    assertEquals("paused", paused.get("state").asText());
    long doneWhilePaused = paused.get("succeeded").asLong() + paused.get("failed").asLong();
    assertTrue(doneWhilePaused < records, "paused before the end: " + paused);
    int pct = Integer.parseInt(browser.findElement(By.cssSelector("#progress .progress")).getAttribute("data-pct"));
    assertEquals(doneWhilePaused * 100 / records, pct, "the bar shows the records done");
    assertTrue(browser.findElement(By.id("pause")).getAttribute("disabled") != null, "a paused job cannot be paused again");
    screenshot("paused");

    // Resume from the button: it runs to the end, and the bar reaches 100%.
    await(By.id("resume")).click();
    await(By.cssSelector("#job-state [data-state='succeeded']"));
    await(By.cssSelector("#progress .progress[data-pct='100']"));
    JsonNode done = http.get("/jobs/" + id).json();
    assertEquals(records, done.get("succeeded").asInt() + done.get("failed").asInt());
    assertEquals(done.get("calls").asText(), browser.findElement(By.cssSelector("[data-stat='calls']")).getText().replace(",", ""));
    assertTrue(browser.findElements(By.cssSelector("#plot .uplot")).size() == 1, "the throughput plot is drawn");
    screenshot("succeeded");

    // The errors: 30 records (topics 0, 10, ..., 290) failed the validator; filter them and open one.
    await(By.id("tab-errors")).click();
    await(By.cssSelector("#errors tbody tr"));
    assertEquals(30, browser.findElements(By.cssSelector("#errors tbody tr")).size());
    new Select(browser.findElement(By.id("error-type"))).selectByValue("validation_failed");
    new Select(browser.findElement(By.id("error-step"))).selectByValue("topic_ok");
    List<WebElement> errors = browser.findElements(By.cssSelector("#errors tbody tr"));
    assertEquals(30, errors.size());
    screenshot("errors");
    String index = errors.get(1).getAttribute("data-index");
    assertEquals("10", index, "error rows in record order");
    errors.get(1).click();

    // The record's history: every event of its journal, in order, each call with its conversation.
    await(By.cssSelector("#record-events .event"));
    List<String> types = browser.findElements(By.cssSelector("#record-events .event")).stream().map(e -> e.getAttribute("data-type")).toList();
    assertEquals("RecordStarted", types.get(0), types.toString());
    assertEquals("RecordFailed", types.get(types.size() - 1), types.toString());
    JsonNode journal = http.get("/jobs/" + id + "/records/" + index).json().get("events");
    assertEquals(journal.size(), types.size(), "one card per journal event");
    WebElement end = browser.findElement(By.cssSelector("#record-events .event[data-type='RecordFailed']"));
    assertTrue(end.getText().contains("validation_failed") && end.getText().contains("topic_ok"), end.getText());
    WebElement call = browser.findElement(By.cssSelector("#record-events .event[data-type='CallSucceeded']"));
    assertTrue(call.getText().contains("Ask about topic 10"), "the call's messages are shown: " + call.getText());
    assertTrue(call.getText().contains("question") && call.getText().contains("sim-small"), "its step and model: " + call.getText());
    screenshot("record");

    // Back on the job: its results as a table, and the cluster page lists this node.
    browser.get(base + "/#/jobs/" + id);
    await(By.id("tab-results")).click();
    await(By.cssSelector("#results tbody tr"));
    assertEquals(20, browser.findElements(By.cssSelector("#results tbody tr")).size(), "the first 20 rows");
    assertTrue(await(By.id("plot-summary")).getText().contains("records/s"), "an ended job's page says how fast it ran");
    await(By.id("tab-usage")).click();
    await(By.cssSelector("#usage-steps tbody tr"));
    List<String> steps = browser.findElements(By.cssSelector("#usage-steps tbody tr")).stream().map(r -> r.getAttribute("data-name")).toList();
    assertEquals(List.of("question", "answer"), steps, "the model steps, in order");
    assertTrue(browser.findElement(By.cssSelector("#usage-models tbody tr[data-name='sim-small']")).getText().contains("570"),
        "300 question calls and 270 answer calls to sim-small");
    screenshot("usage");

    // Retry the failed records from the button: the job runs again, and they go on from their last answered call (the
    // question's answer, kept), to fail the validator again without a model call; the page follows the job to its new end.
    String firstEnd = done.get("finished_at").asText();
    await(By.id("retry")).click();
    new WebDriverWait(browser, WAIT).until(ExpectedConditions.alertIsPresent()).accept();
    JsonNode again = http.awaitStatus(id, "end again", s -> s.get("state").asText().equals("succeeded")
        && !s.get("finished_at").asText().equals(firstEnd), WAIT);
    assertEquals(done.get("calls"), again.get("calls"), "no answered call was sent again: " + again);
    assertEquals(30, again.get("failed").asInt(), again.toString());
    new WebDriverWait(browser, WAIT).until(b -> again.get("finished_at").asText().equals(finishedShown()));
    assertTrue(browser.findElement(By.id("retry")).getAttribute("disabled") == null, "its 30 failed records may be retried again");
    browser.get(base + "/#/jobs/" + id + "/records/10");
    await(By.cssSelector("#record-events .event[data-type='RecordRetried']"));
    List<String> retried = browser.findElements(By.cssSelector("#record-events .event")).stream().map(e -> e.getAttribute("data-type")).toList();
    assertEquals(List.of("RecordFailed", "RecordRetried", "RecordFailed"), retried.subList(retried.size() - 3, retried.size()),
        "the retry in the record's journal, between its two ends: " + retried);
    screenshot("retried");

    browser.get(base + "/#/cluster");
    WebElement member = await(By.cssSelector("#members tbody tr"));
    assertTrue(member.getText().contains("up"), member.getText());
    WebElement gateway = await(By.cssSelector("#models tbody tr[data-model='sim-small']"));
    assertTrue(gateway.getText().startsWith(http.get("/cluster").json().at("/members/0/node").asText()), "the node's gateway: " + gateway.getText());
    screenshot("cluster");
  }

  @Test
  void onANodeWithTokensTheDashboardAsksForOneAndSendsIt(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    String token = "dashboard-token-5d0c2e81f9a7";
    Path config = Files.writeString(dir.resolve("auth.conf"), "skein.simulator.latency = 5ms\n"
        + "skein.http.auth { tokens = [{name = ui, sha256 = \"" + io.skein.coordinator.http.ApiTokens.sha256(token) + "\"}] }\n");
    try (SkeinNode guarded = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      String id = new Http(guarded.httpPort()).withToken(token).submitJob("""
          name: guarded
          models: {m: sim-small}
          input: {num_records: 3}
          steps:
            - {name: a, model: m, prompt: "{{ index }}"}
          """, null);
      browser.get("http://127.0.0.1:" + guarded.httpPort() + "/");
      await(By.id("token")).sendKeys(token);
      screenshot("token");
      browser.findElement(By.cssSelector("#auth button")).click();
      await(By.cssSelector("#jobs tr[data-job='" + id + "']"));
      assertTrue(!browser.findElement(By.id("auth")).isDisplayed(), "the form goes once the token is taken");
      browser.findElement(By.cssSelector("#jobs tr[data-job='" + id + "']")).click();
      await(By.cssSelector("#job-state [data-state='succeeded']"));
      assertEquals(token, ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return sessionStorage.getItem('skein-token')"),
          "kept in the tab's session storage");
      assertEquals(null, ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("return localStorage.getItem('skein-token')"),
          "and nowhere that outlives the tab");
    }
  }
}

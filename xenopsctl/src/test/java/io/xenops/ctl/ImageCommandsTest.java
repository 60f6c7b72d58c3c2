package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.xenops.ctl.Fixtures.IMAGE_LIST;
import static org.assertj.core.api.Assertions.assertThat;

/** invoke and image ls/inspect/import/pull/push/rm/gc. */
class ImageCommandsTest {
    private static final String IMAGE = """
            {"name":"hello","version":"0.1.0",
             "digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
             "memory_mib":4,"vcpus":1,"boot_modes":["pvh"],"size_bytes":6144}""";

    private static final String DETAILS = """
            {"name":"hello","ref":"hello:0.1.0","version":"0.1.0",
             "digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
             "config_digest":"sha256:aa","memory_mib":4,"vcpus":1,"boot_modes":["pvh","pv"],
             "cmdline":"quiet","size_bytes":6144,"created":"2026-11-26T20:00:00Z","last_used":null,
             "pinned":false,"source":"localhost:5000/hello:0.1.0","future_field":{"x":1}}""";

    private static final String TASK_ID = "task-00000000abcd";

    private static final String PULL_FAILED = """
            {"type":"urn:xenops:problem:registry-unreachable","title":"Registry unreachable","status":502,
             "detail":"registry localhost:5000 refused the connection"}""";

    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private static String task(String kind, String state, double progress, String result, String error) {
        return "{\"id\":\"" + TASK_ID + "\",\"kind\":\"" + kind + "\",\"subject\":\"hello\",\"state\":\"" + state
                + "\",\"progress\":" + progress + (result == null ? "" : ",\"result\":" + result)
                + (error == null ? "" : ",\"error\":" + error)
                + ",\"created_at\":\"2026-11-26T23:29:00Z\",\"finished_at\":null}";
    }

    /** GET /v1/tasks/{id} answers each of {@code answers} once, in order, then keeps the last. */
    private static void taskAnswers(String... answers) {
        for (int i = 0; i < answers.length; i++) {
            wm.stubFor(get("/v1/tasks/" + TASK_ID).inScenario("task")
                    .whenScenarioStateIs(i == 0 ? Scenario.STARTED : "poll-" + i)
                    .willReturn(okJson(answers[i]))
                    .willSetStateTo(i + 1 < answers.length ? "poll-" + (i + 1) : "poll-" + i));
        }
    }

    @Test
    void invokePostsTheRequestAndPrintsTheOutputEscaped() {
        wm.stubFor(post("/v1/invocations").willReturn(okJson("""
                {"image":"hello","vm":"vm-3f9c2a7b1d04","output":"HELLO world\\u001b[2J",
                 "timings":{"path":"warm","resumed_us":412,"result_us":900}}""")));

        Result r = WireMockCli.cli(wm).run("invoke", "hello", "--input", "world", "--timeout-ms", "2000");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/invocations"))
                .withRequestBody(equalToJson("{\"image\":\"hello\",\"input\":\"world\",\"timeout_ms\":2000}")));
        assertThat(r.out()).isEqualTo("HELLO world\\x1b[2J\n");
    }

    @Test
    void invokeLeavesOutOptionsNotGivenAndJsonPrintsTheDocument() {
        wm.stubFor(post("/v1/invocations").willReturn(okJson(
                "{\"image\":\"hello\",\"vm\":\"vm-3f9c2a7b1d04\",\"output\":\"HI\",\"timings\":{\"path\":\"cold\"}}")));

        Result r = WireMockCli.cli(wm).run("--compact", "invoke", "hello");

        wm.verify(postRequestedFor(urlEqualTo("/v1/invocations")).withRequestBody(equalToJson("{\"image\":\"hello\"}")));
        assertThat(r.out()).isEqualTo(
                "{\"image\":\"hello\",\"vm\":\"vm-3f9c2a7b1d04\",\"output\":\"HI\",\"timings\":{\"path\":\"cold\"}}\n");
    }

    @Test
    void invokeTimeoutIsAnApiErrorWithTheDaemonsDetail() {
        wm.stubFor(post("/v1/invocations").willReturn(aResponse().withStatus(504)
                .withHeader("Content-Type", "application/problem+json")
                .withBody("{\"title\":\"Guest timed out\",\"status\":504,\"detail\":\"no output within 2000 ms\"}")));

        Result r = WireMockCli.cli(wm).run("invoke", "hello", "--timeout-ms", "2000");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).startsWith("xenopsctl: no output within 2000 ms (504)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void imageLsAndTheImagesAliasListTheSameTable() {
        wm.stubFor(get("/v1/images").willReturn(okJson(IMAGE_LIST)));

        Result ls = WireMockCli.cli(wm).run("image", "ls");
        Result alias = WireMockCli.cli(wm).run("images");

        assertThat(ls.exitCode()).as(ls.toString()).isZero();
        assertThat(ls.out()).startsWith("NAME   VERSION  VCPUS  MEMORY  BOOT       SIZE  DIGEST\n")
                .contains("9f86d081884c").isEqualTo(alias.out());
        wm.verify(2, getRequestedFor(urlEqualTo("/v1/images")));
    }

    @Test
    void imageInspectPrintsEveryField() {
        wm.stubFor(get("/v1/images/hello").willReturn(okJson(DETAILS)));

        Result r = WireMockCli.cli(wm).run("image", "inspect", "hello");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("ref            hello:0.1.0\n")
                .contains("config digest  sha256:aa\n")
                .contains("boot           pvh,pv\n")
                .contains("size           6.0 KiB (6144 bytes)\n")
                .contains("last used      never\n")
                .contains("source         localhost:5000/hello:0.1.0\n");
    }

    @Test
    void imageInspectWithATagEncodesTheNameAsOneSegment() {
        wm.stubFor(get("/v1/images/hello%3A0.1.0").willReturn(okJson(DETAILS)));

        Result r = WireMockCli.cli(wm).run("--json", "image", "inspect", "hello:0.1.0");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("\"future_field\": {");
    }

    @Test
    void imageImportSendsAbsolutePaths() {
        wm.stubFor(post("/v1/images/imports").willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json").withBody(IMAGE)));
        String cwd = Path.of("").toAbsolutePath().toString();

        Result r = WireMockCli.cli(wm).run("image", "import", "--kernel", "build/../hello.elf",
                "--manifest", "/srv/images/hello.json");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/images/imports")).withRequestBody(equalToJson(
                "{\"kernel_path\":\"" + cwd + "/hello.elf\",\"manifest_path\":\"/srv/images/hello.json\"}")));
        assertThat(r.out()).isEqualTo(
                "imported hello 0.1.0 sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    }

    @Test
    void imageImportWithoutTheManifestIsAUsageError() {
        Result r = WireMockCli.cli(wm).run("image", "import", "--kernel", "hello.elf");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--manifest");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void imagePullFollowsTheTaskWithProgressLinesAndPrintsTheImage() {
        wm.stubFor(post("/v1/images/pulls").willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody(task("image-pull", "running", 0, null, null))));
        taskAnswers(task("image-pull", "running", 0.25, null, null),
                task("image-pull", "running", 0.5, null, null),
                task("image-pull", "succeeded", 1, IMAGE, null));

        Result r = WireMockCli.cli(wm).run("image", "pull", "localhost:5000/hello:0.1.0", "--name", "hi:1");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/images/pulls")).withRequestBody(equalToJson(
                "{\"reference\":\"localhost:5000/hello:0.1.0\",\"name\":\"hi:1\"}")));
        wm.verify(3, getRequestedFor(urlEqualTo("/v1/tasks/" + TASK_ID)));
        wm.verify(0, deleteRequestedFor(urlEqualTo("/v1/tasks/" + TASK_ID)));
        // Not a terminal: one line per 10 %, no carriage returns in a log.
        assertThat(r.err()).isEqualTo("""
                pulling localhost:5000/hello:0.1.0: 0%
                pulling localhost:5000/hello:0.1.0: 25%
                pulling localhost:5000/hello:0.1.0: 50%
                pulling localhost:5000/hello:0.1.0: 100%
                """);
        assertThat(r.out()).isEqualTo(
                "pulled hello sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    }

    @Test
    void imagePullWithJsonShowsNoProgressAndPrintsTheFinishedTask() {
        wm.stubFor(post("/v1/images/pulls").willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody(task("image-pull", "running", 0, null, null))));
        taskAnswers(task("image-pull", "succeeded", 1, IMAGE, null));

        Result r = WireMockCli.cli(wm).run("--compact", "image", "pull", "localhost:5000/hello:0.1.0");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(postRequestedFor(urlEqualTo("/v1/images/pulls"))
                .withRequestBody(equalToJson("{\"reference\":\"localhost:5000/hello:0.1.0\"}")));
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith("{\"id\":\"" + TASK_ID + "\",").contains("\"state\":\"succeeded\"")
                .contains("\"result\":{\"name\":\"hello\"");
    }

    @Test
    void aFailedPullPrintsTheTasksProblemAndExitsOne() {
        wm.stubFor(post("/v1/images/pulls").willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody(task("image-pull", "running", 0, null, null))));
        taskAnswers(task("image-pull", "failed", 0.1, null, PULL_FAILED));

        Result r = WireMockCli.cli(wm).run("image", "pull", "localhost:5000/hello:0.1.0");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).endsWith("xenopsctl: registry localhost:5000 refused the connection (502)\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aCancelledPullSaysSo() {
        wm.stubFor(post("/v1/images/pulls").willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody(task("image-pull", "running", 0, null, null))));
        taskAnswers(task("image-pull", "cancelled", 0.3, null, null));

        Result r = WireMockCli.cli(wm).run("image", "pull", "localhost:5000/hello:0.1.0");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).contains("xenopsctl: task " + TASK_ID + " cancelled");
    }

    @Test
    void imagePushFollowsTheTaskAndPrintsTheReference() {
        wm.stubFor(post("/v1/images/hello/push").willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody(task("image-push", "running", 0, null, null))));
        taskAnswers(task("image-push", "succeeded", 1,
                "{\"reference\":\"localhost:5000/hello:0.1.0\",\"manifest_digest\":\"sha256:bb\",\"bytes_uploaded\":6144}",
                null));

        Result r = WireMockCli.cli(wm).run("image", "push", "hello", "localhost:5000/hello:0.1.0");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/images/hello/push"))
                .withRequestBody(equalToJson("{\"reference\":\"localhost:5000/hello:0.1.0\"}")));
        assertThat(r.out()).isEqualTo("pushed hello to localhost:5000/hello:0.1.0 sha256:bb (6.0 KiB uploaded)\n");
    }

    @Test
    void imageRmDeletesAndAnImageInUseIsExitOne() {
        wm.stubFor(delete("/v1/images/hello").willReturn(aResponse().withStatus(204)));
        wm.stubFor(delete("/v1/images/busy").willReturn(aResponse().withStatus(409)
                .withHeader("Content-Type", "application/problem+json")
                .withBody("{\"type\":\"urn:xenops:problem:image-in-use\",\"title\":\"Image in use\",\"status\":409,"
                        + "\"detail\":\"image 'busy' is used by pool busy\"}")));

        Result ok = WireMockCli.cli(wm).run("image", "rm", "hello");
        Result busy = WireMockCli.cli(wm).run("--json", "image", "rm", "busy");

        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).isEqualTo("removed hello\n");
        wm.verify(1, deleteRequestedFor(urlEqualTo("/v1/images/hello")));
        assertThat(busy.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(busy.err()).startsWith("xenopsctl: image 'busy' is used by pool busy (409)");
        assertThat(busy.out()).contains("\"type\": \"urn:xenops:problem:image-in-use\"");
    }

    @Test
    void imageGcSendsTheBudgetInBytesAndSummarisesTheResult() {
        wm.stubFor(post("/v1/images/gc").willReturn(okJson("""
                {"evicted":["old:1","older:2"],"blobs_removed":5,"bytes_freed":3145728,"bytes_used":1048576,
                 "budget_bytes":2147483648,"within_budget":true}""")));

        Result r = WireMockCli.cli(wm).run("image", "gc", "--budget", "2G");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/images/gc"))
                .withRequestBody(equalToJson("{\"budget_bytes\":2147483648}")));
        assertThat(r.out()).isEqualTo("""
                evicted 2 images: old:1, older:2
                freed 3.0 MiB, store now 1.0 MiB of a 2.0 GiB budget
                """);
    }

    @Test
    void imageGcRejectsABudgetThatIsNotASize() {
        Result r = WireMockCli.cli(wm).run("image", "gc", "--budget", "lots");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("'lots' is not a size in bytes");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }
}

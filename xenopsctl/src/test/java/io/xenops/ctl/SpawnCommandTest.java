package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.xenops.ctl.Fixtures.SPAWNED_COLD_WITH_RESULT;
import static io.xenops.ctl.Fixtures.SPAWNED_WARM;
import static io.xenops.ctl.Fixtures.UNKNOWN_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;

class SpawnCommandTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private void answer(int status, String contentType, String body) {
        wm.stubFor(post("/v1/vms").willReturn(aResponse().withStatus(status)
                .withHeader("Content-Type", contentType).withBody(body)));
    }

    @Test
    void sendsOnlyTheImageWhenNoFlagsAreGiven() {
        answer(201, "application/json", SPAWNED_WARM);

        Result r = WireMockCli.cli(wm).run("spawn", "hello");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        // Strict JSON match: no wait/args/timeout_ms keys, so the daemon's defaults apply.
        wm.verify(1, postRequestedFor(urlEqualTo("/v1/vms"))
                .withHeader("Content-Type", containing("application/json"))
                .withRequestBody(equalToJson("{\"image\":\"hello\"}")));
    }

    @Test
    void sendsWaitArgsAndTimeoutAsTheApiNamesThem() {
        answer(201, "application/json", SPAWNED_WARM);

        Result r = WireMockCli.cli(wm).run("spawn", "hello", "--wait", "ready", "--args", "say \"hi\" 42",
                "--timeout-ms", "5000");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(postRequestedFor(urlEqualTo("/v1/vms")).withRequestBody(equalToJson(
                "{\"image\":\"hello\",\"wait\":\"ready\",\"args\":\"say \\\"hi\\\" 42\",\"timeout_ms\":5000}")));
    }

    @Test
    void printsIdStateAndTimingsInMillisecondsWithThreeDecimals() {
        answer(201, "application/json", SPAWNED_WARM);

        Result r = WireMockCli.cli(wm).run("spawn", "hello", "--wait", "ready");

        assertThat(r.out()).isEqualTo("""
                vm-3f9c2a7b1d04 running
                resumed 0.412 ms, ready 2.301 ms (warm)
                """);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void coldSpawnShowsThePathTheResultAndItsTiming() {
        answer(201, "application/json", SPAWNED_COLD_WITH_RESULT);

        Result r = WireMockCli.cli(wm).run("spawn", "hello", "--args", "world", "--wait", "ready");

        assertThat(r.out()).isEqualTo("""
                vm-00000000beef running
                resumed 45.500 ms, ready 52.003 ms, result 52.990 ms (cold)
                result: HELLO world
                """);
    }

    @Test
    void textFromTheDaemonOrGuestCannotReachTheTerminalRaw() {
        answer(201, "application/json", """
                {"id":"vm-3f9c2a7b1d04","image":"hello","state":"running","created_at":"2026-11-26T23:29:58Z",
                 "result":"two\\nlines\\u001b[2J","timings":{"path":"warm\\u001b]0;x\\u0007","resumed_us":1}}""");

        Result r = WireMockCli.cli(wm).run("spawn", "hello");

        assertThat(r.out()).isEqualTo("""
                vm-3f9c2a7b1d04 running
                resumed 0.001 ms (warm\\x1b]0;x\\x07)
                result: two\\nlines\\x1b[2J
                """);
    }

    @Test
    void quietPrintsOnlyTheIdForShellVariables() {
        answer(201, "application/json", SPAWNED_WARM);

        Result r = WireMockCli.cli(wm).run("spawn", "-q", "hello");

        assertThat(r.out()).isEqualTo("vm-3f9c2a7b1d04\n");
    }

    @Test
    void jsonPrintsTheResponseIndentedWithFieldsTheCliDoesNotKnow() {
        answer(201, "application/json", "{\"id\":\"vm-3f9c2a7b1d04\",\"image\":\"hello\",\"state\":\"running\","
                + "\"created_at\":\"2026-11-26T23:29:58Z\",\"added_later\":{\"x\":[1,2]},\"timings\":{\"path\":\"warm\"}}");

        Result r = WireMockCli.cli(wm).run("spawn", "hello", "--json");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("""
                {
                  "id": "vm-3f9c2a7b1d04",
                  "image": "hello",
                  "state": "running",
                  "created_at": "2026-11-26T23:29:58Z",
                  "added_later": {
                    "x": [
                      1,
                      2
                    ]
                  },
                  "timings": {
                    "path": "warm"
                  }
                }
                """);
    }

    @Test
    void compactPrintsOneLine() {
        answer(201, "application/json", SPAWNED_WARM);

        Result r = WireMockCli.cli(wm).run("--compact", "spawn", "hello");

        assertThat(r.out()).doesNotContain("  ").endsWith("}\n").hasLineCount(1)
                .startsWith("{\"id\":\"vm-3f9c2a7b1d04\",\"image\":\"hello\",\"state\":\"running\"");
    }

    @Test
    void unknownImageIsAnApiErrorWithTheProblemDetail() {
        answer(404, "application/problem+json", UNKNOWN_IMAGE);

        Result r = WireMockCli.cli(wm).run("spawn", "nope");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: unknown image 'nope' (404)\n  request id: req-17\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void withJsonTheProblemDocumentAlsoGoesToStdout() {
        answer(404, "application/problem+json", UNKNOWN_IMAGE);

        Result r = WireMockCli.cli(wm).run("spawn", "nope", "--compact");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.out()).contains("\"type\":\"urn:xenops:problem:unknown-image\"").hasLineCount(1);
        assertThat(r.err()).startsWith("xenopsctl: unknown image 'nope' (404)");
    }

    @Test
    void capacityExhaustedAndGuestTimeoutAreApiErrors() {
        answer(503, "application/problem+json", """
                {"type":"urn:xenops:problem:capacity-exhausted","title":"Capacity exhausted","status":503,
                 "detail":"no capacity for another VM of 'hello' (limit 64)"}""");
        Result busy = WireMockCli.cli(wm).run("spawn", "hello");

        answer(504, "application/problem+json", """
                {"type":"urn:xenops:problem:guest-timeout","title":"Guest did not answer in time","status":504}""");
        Result slow = WireMockCli.cli(wm).run("spawn", "hello", "--wait", "ready", "--timeout-ms", "1");

        assertThat(busy.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(busy.err()).isEqualTo("xenopsctl: no capacity for another VM of 'hello' (limit 64) (503)\n");
        assertThat(slow.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        // Without a detail, the title is what there is to say.
        assertThat(slow.err()).isEqualTo("xenopsctl: Guest did not answer in time (504)\n");
    }

    @Test
    void badWaitValueIsAUsageErrorAndSendsNothing() {
        Result r = WireMockCli.cli(wm).run("spawn", "hello", "--wait", "booted");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--wait").contains("running, ready").contains("'booted'")
                .contains("Try 'xenopsctl spawn --help'");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void missingImageAndNonNumericTimeoutAreUsageErrors() {
        Result noImage = WireMockCli.cli(wm).run("spawn");
        Result badTimeout = WireMockCli.cli(wm).run("spawn", "hello", "--timeout-ms", "soon");
        Result blankImage = WireMockCli.cli(wm).run("spawn", " ");

        assertThat(noImage.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noImage.err()).contains("Missing required parameter: 'IMAGE'");
        assertThat(badTimeout.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badTimeout.err()).contains("--timeout-ms").contains("'soon'");
        assertThat(blankImage.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(blankImage.err()).contains("IMAGE must not be empty");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void asksForJsonAndIdentifiesItself() {
        answer(201, "application/json", SPAWNED_WARM);

        WireMockCli.cli(wm).run("spawn", "hello");

        wm.verify(postRequestedFor(urlEqualTo("/v1/vms"))
                .withHeader("Accept", containing("application/json"))
                .withHeader("User-Agent", equalTo("xenopsctl/" + Version.current())));
    }
}

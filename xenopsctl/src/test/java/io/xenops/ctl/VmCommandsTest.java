package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.xenops.ctl.Fixtures.SPAWNED_WARM;
import static io.xenops.ctl.Fixtures.VM_ID;
import static io.xenops.ctl.Fixtures.VM_LIST;
import static org.assertj.core.api.Assertions.assertThat;

/** ls, show, destroy and console: the commands about spawned VMs. */
class VmCommandsTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private static final String NOT_FOUND = """
            {"type":"urn:xenops:problem:not-found","title":"Not found","status":404,
             "detail":"no VM vm-000000000000"}""";

    @Test
    void lsGetsTheVmsAndPrintsAnAlignedTable() {
        wm.stubFor(get("/v1/vms").willReturn(okJson(VM_LIST)));

        Result r = WireMockCli.cli(wm).run("ls");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, getRequestedFor(urlEqualTo("/v1/vms")));
        // Ages against CliRun.NOW (23:30:00): 45 s and 3.5 h.
        assertThat(r.out()).isEqualTo("""
                ID               IMAGE           STATE    AGE  PATH
                vm-3f9c2a7b1d04  hello           running  45s  warm
                vm-00000000beef  hello-world.v2  crashed   3h  cold
                """);
    }

    @Test
    void lsSaysSoWhenThereAreNoVms() {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}")));

        Result r = WireMockCli.cli(wm).run("ls");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("No VMs. Spawn one with: xenopsctl spawn <image>\n");
    }

    @Test
    void lsJsonIsTheListDocument() {
        wm.stubFor(get("/v1/vms").willReturn(okJson(VM_LIST)));

        Result r = WireMockCli.cli(wm).run("ls", "--compact");

        assertThat(r.out()).startsWith("{\"vms\":[{\"id\":\"vm-3f9c2a7b1d04\"")
                .contains("\"exit_reason\":\"triple fault\"").hasLineCount(1);
    }

    @Test
    void showGetsOneVmAndListsEveryField() {
        wm.stubFor(get("/v1/vms/" + VM_ID).willReturn(okJson(SPAWNED_WARM)));

        Result r = WireMockCli.cli(wm).run("show", VM_ID);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(getRequestedFor(urlEqualTo("/v1/vms/" + VM_ID)));
        assertThat(r.out()).isEqualTo("""
                id           vm-3f9c2a7b1d04
                image        hello
                state        running
                created      2026-11-26T23:29:58Z (2s ago)
                spawn path   warm
                received     2026-11-26T23:29:58.000100Z
                timings      taken 0.037 ms, resumed 0.412 ms, ready 2.301 ms, responded 2.350 ms
                driver.kind  qemu
                driver.pid   4242
                driver.qmp   /run/xenops/vm-3f9c2a7b1d04/qmp.sock
                """);
    }

    @Test
    void showOfAnExitedVmIncludesItsExitReasonAndResult() {
        wm.stubFor(get("/v1/vms/vm-00000000beef").willReturn(okJson("""
                {"id":"vm-00000000beef","image":"hello","state":"exited","created_at":"not a time",
                 "result":"42","exit_reason":"guest shut down\\ncleanly"}""")));

        Result r = WireMockCli.cli(wm).run("show", "vm-00000000beef");

        assertThat(r.out()).contains("state        exited\n")
                .contains("created      not a time\n")
                .contains("result       42\n")
                // A newline from the daemon must not break the layout.
                .contains("exit reason  guest shut down\\ncleanly\n")
                .doesNotContain("timings");
    }

    @Test
    void showOfAnUnknownVmIsAnApiError() {
        wm.stubFor(get("/v1/vms/vm-000000000000").willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/problem+json").withBody(NOT_FOUND)));

        Result r = WireMockCli.cli(wm).run("show", "vm-000000000000");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: no VM vm-000000000000 (404)\n");
    }

    @Test
    void anIdCannotEscapeItsPathSegment() {
        wm.stubFor(get(anyUrl()).willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/problem+json")
                .withBody("{\"type\":\"urn:xenops:problem:invalid-request\",\"title\":\"Invalid request\",\"status\":400}")));

        WireMockCli.cli(wm).run("show", "../pools");
        WireMockCli.cli(wm).run("show", "..");

        wm.verify(getRequestedFor(urlEqualTo("/v1/vms/..%2Fpools")));
        wm.verify(getRequestedFor(urlEqualTo("/v1/vms/%2E%2E")));
    }

    @Test
    void emptyIdIsAUsageError() {
        Result r = WireMockCli.cli(wm).run("show", "");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("ID must not be empty");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void destroySendsDeleteAndConfirms() {
        wm.stubFor(delete("/v1/vms/" + VM_ID).willReturn(aResponse().withStatus(204)));

        Result r = WireMockCli.cli(wm).run("destroy", VM_ID);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, deleteRequestedFor(urlEqualTo("/v1/vms/" + VM_ID)));
        assertThat(r.out()).isEqualTo("destroyed vm-3f9c2a7b1d04\n");
    }

    @Test
    void destroyWithJsonPrintsNothingBecauseTheApiAnswersNoBody() {
        wm.stubFor(delete("/v1/vms/" + VM_ID).willReturn(aResponse().withStatus(204)));

        Result r = WireMockCli.cli(wm).run("--json", "destroy", VM_ID);

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEmpty();
        wm.verify(1, deleteRequestedFor(urlEqualTo("/v1/vms/" + VM_ID)));
    }

    @Test
    void destroyOfAnUnknownVmIsAnApiError() {
        wm.stubFor(delete("/v1/vms/vm-000000000000").willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/problem+json").withBody(NOT_FOUND)));

        Result r = WireMockCli.cli(wm).run("destroy", "vm-000000000000");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: no VM vm-000000000000 (404)\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void consolePrintsTheTextAskingForPlainText() {
        wm.stubFor(get("/v1/vms/" + VM_ID + "/console").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/plain; charset=utf-8")
                .withBody("xenops runtime\r\nREADY hello vm-3f9c2a7b1d04\r\n")));

        Result r = WireMockCli.cli(wm).run("console", VM_ID);

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(getRequestedFor(urlEqualTo("/v1/vms/" + VM_ID + "/console"))
                .withHeader("Accept", equalTo("text/plain")));
        assertThat(r.out()).isEqualTo("xenops runtime\nREADY hello vm-3f9c2a7b1d04\n");
    }

    @Test
    void consoleEscapesTerminalControlSequencesUnlessRaw() {
        String hostile = "READY hello x\n\u001b]0;pwned\u0007\u001b[2Jbye";
        wm.stubFor(get("/v1/vms/" + VM_ID + "/console").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/plain").withBody(hostile)));

        Result safe = WireMockCli.cli(wm).run("console", VM_ID);
        Result raw = WireMockCli.cli(wm).run("console", "--raw", VM_ID);

        assertThat(safe.out()).isEqualTo("READY hello x\n\\x1b]0;pwned\\x07\\x1b[2Jbye\n");
        assertThat(raw.out()).isEqualTo(hostile);
    }

    @Test
    void consoleOfAnUnknownVmIsAnApiError() {
        wm.stubFor(get("/v1/vms/vm-000000000000/console").willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/problem+json").withBody(NOT_FOUND)));

        Result r = WireMockCli.cli(wm).run("console", "vm-000000000000");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: no VM vm-000000000000 (404)\n");
    }
}

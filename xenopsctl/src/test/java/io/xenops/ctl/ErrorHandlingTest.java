package io.xenops.ctl;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ServerSocket;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

/** How every kind of failure reaches the operator: one stderr line and a distinct exit code. */
class ErrorHandlingTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    /** A loopback port nothing listens on (bound, then released). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void daemonNotRunningExitsThreeWithAHint() throws IOException {
        String url = "http://127.0.0.1:" + closedPort();

        Result r = CliRun.against(url).run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).isEqualTo("xenopsctl: cannot reach xenopsd at " + url
                + " (connection refused). Is it running? Start it with ./xenops run\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void everyCommandThatTalksToTheDaemonReportsItUnreachable() throws IOException {
        CliRun cli = CliRun.against("http://127.0.0.1:" + closedPort());
        String[][] commands = {{"spawn", "hello"}, {"ls"}, {"show", "vm-3f9c2a7b1d04"}, {"destroy", "vm-3f9c2a7b1d04"},
                {"console", "vm-3f9c2a7b1d04"}, {"pool", "ls"}, {"pool", "set", "hello", "2"}, {"images"},
                {"health"}, {"--json", "ls"}};
        for (String[] args : commands) {
            Result r = cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(ExitCodes.UNREACHABLE);
            assertThat(r.err()).as(String.join(" ", args)).contains("cannot reach xenopsd");
        }
    }

    @Test
    void versionStillNamesTheClientWhenTheDaemonIsDown() throws IOException {
        Result r = CliRun.against("http://127.0.0.1:" + closedPort()).run("version");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.out()).isEqualTo("xenopsctl " + Version.current() + "\n");
        assertThat(r.err()).contains("cannot reach xenopsd");
    }

    @Test
    void unknownHostIsUnreachable() {
        Result r = CliRun.against("http://no-such-host.invalid:8470").run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).startsWith("xenopsctl: cannot reach xenopsd at http://no-such-host.invalid:8470 (unknown host)");
    }

    @Test
    void connectionDroppedMidRequestIsUnreachable() {
        wm.stubFor(get("/v1/vms").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));

        Result r = WireMockCli.cli(wm).run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).startsWith("xenopsctl: lost the connection to xenopsd at ");
    }

    @Test
    void errorWithoutAProblemDocumentShowsStatusAndBody() {
        wm.stubFor(get("/v1/vms").willReturn(aResponse().withStatus(502)
                .withHeader("Content-Type", "text/html").withBody("<html>Bad Gateway</html>\n<p>nginx</p>")));

        Result r = WireMockCli.cli(wm).run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: xenopsd answered HTTP 502: <html>Bad Gateway</html>\n");
    }

    @Test
    void brokenProblemDocumentStillReportsTheStatus() {
        wm.stubFor(get("/v1/vms").willReturn(aResponse().withStatus(500)
                .withHeader("Content-Type", "application/problem+json").withBody("{\"title\": ")));

        Result r = WireMockCli.cli(wm).run("--json", "ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: xenopsd answered HTTP 500: {\"title\":\n");
        // Not a problem document, so nothing is passed on as one.
        assertThat(r.out()).isEmpty();
    }

    @Test
    void emptyErrorBodyStillReportsTheStatus() {
        wm.stubFor(get("/v1/vms").willReturn(aResponse().withStatus(401)));

        Result r = WireMockCli.cli(wm).run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).isEqualTo("xenopsctl: xenopsd answered HTTP 401 with no details\n");
    }

    @Test
    void successWithAnUnreadableBodyIsAnApiError() {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\": 42}")));
        Result table = WireMockCli.cli(wm).run("ls");

        wm.stubFor(get("/v1/images").willReturn(okJson("not json")));
        Result json = WireMockCli.cli(wm).run("images", "--json");

        assertThat(table.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(table.err()).startsWith("xenopsctl: xenopsd sent a VmList this xenopsctl cannot read");
        assertThat(json.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(json.err()).startsWith("xenopsctl: xenopsd sent invalid JSON");
    }

    @Test
    void jsonOutputRejectsTrailingGarbage() {
        wm.stubFor(get("/v1/health").willReturn(okJson("{\"status\":\"ok\",\"driver\":\"qemu\"} {}")));

        Result r = WireMockCli.cli(wm).run("health", "--json");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        assertThat(r.err()).contains("trailing content");
    }

    @Test
    void unknownFieldsFromANewerDaemonDoNotBreakTables() {
        wm.stubFor(get("/v1/health").willReturn(okJson(
                "{\"status\":\"ok\",\"driver\":\"xen\",\"numa\":{\"nodes\":2},\"version\":\"9.0.0\"}")));

        Result r = WireMockCli.cli(wm).run("health");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("xenopsd ok: driver xen, version 9.0.0\n");
    }
}

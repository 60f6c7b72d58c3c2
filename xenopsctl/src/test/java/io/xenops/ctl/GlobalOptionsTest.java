package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/** --url, XENOPS_URL, tokens, and options placed before or after the subcommand. */
class GlobalOptionsTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private static String base() {
        return wm.getRuntimeInfo().getHttpBaseUrl();
    }

    private static String deadUrl() throws IOException {
        return "http://127.0.0.1:" + ErrorHandlingTest.closedPort();
    }

    @Test
    void defaultAddressIsLoopback8470() {
        XenopsCtl root = new XenopsCtl(Map.of(), Clock.systemUTC());
        Cli.build(root).parseArgs("ls");

        assertThat(root.api().base()).hasToString("http://127.0.0.1:8470");
        root.close();
    }

    @Test
    void urlOptionWinsOverTheEnvironmentBeforeOrAfterTheSubcommand() throws IOException {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}")));
        CliRun cli = CliRun.against(deadUrl());

        Result before = cli.run("--url", base(), "ls");
        Result after = cli.run("ls", "--url", base());

        assertThat(before.exitCode()).as(before.toString()).isZero();
        assertThat(after.exitCode()).as(after.toString()).isZero();
        wm.verify(2, getRequestedFor(urlEqualTo("/v1/vms")));
    }

    @Test
    void urlMayCarryAPathPrefixForAReverseProxy() {
        wm.stubFor(get("/xenops/v1/vms").willReturn(okJson("{\"vms\":[]}")));

        Result r = CliRun.withoutEnv().run("--url", base() + "/xenops/", "ls");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(getRequestedFor(urlEqualTo("/xenops/v1/vms")));
    }

    @Test
    void invalidUrlIsAUsageError() {
        Result ftp = CliRun.withoutEnv().run("--url", "ftp://127.0.0.1:8470", "ls");
        Result junk = CliRun.against("127.0.0.1 8470").run("ls");

        assertThat(ftp.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(ftp.err()).startsWith("xenopsctl: invalid xenopsd URL 'ftp://127.0.0.1:8470': expected http://HOST:PORT");
        assertThat(junk.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(junk.err()).startsWith("xenopsctl: invalid xenopsd URL '127.0.0.1 8470'");
    }

    @Test
    void noTokenMeansNoAuthorizationHeader() {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}")));

        WireMockCli.cli(wm).run("ls");

        wm.verify(getRequestedFor(urlEqualTo("/v1/vms")).withoutHeader("Authorization"));
    }

    @Test
    void tokenFromTheEnvironmentIsSentAsBearer() {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}")));

        WireMockCli.cli(wm).env("XENOPS_TOKEN", "s3cret-env").run("ls");

        wm.verify(getRequestedFor(urlEqualTo("/v1/vms")).withHeader("Authorization", equalTo("Bearer s3cret-env")));
    }

    @Test
    void tokenFileWinsOverTheEnvironmentAndIsTrimmed(@TempDir Path dir) throws IOException {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}")));
        Path file = Files.writeString(dir.resolve("token"), "s3cret-file\n");

        Result r = WireMockCli.cli(wm).env("XENOPS_TOKEN", "s3cret-env").run("ls", "--token-file", file.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(getRequestedFor(urlEqualTo("/v1/vms")).withHeader("Authorization", equalTo("Bearer s3cret-file")));
    }

    @Test
    void unreadableOrEmptyTokenFileIsAUsageErrorAndSendsNothing(@TempDir Path dir) throws IOException {
        Path empty = Files.writeString(dir.resolve("empty"), "  \n");

        Result missing = WireMockCli.cli(wm).run("--token-file", dir.resolve("absent").toString(), "ls");
        Result blank = WireMockCli.cli(wm).run("--token-file", empty.toString(), "ls");

        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).startsWith("xenopsctl: cannot read token file " + dir.resolve("absent"));
        assertThat(blank.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(blank.err()).startsWith("xenopsctl: token file " + empty + " is empty");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void tokenWithALineBreakInsideIsRefusedRatherThanSent() {
        Result r = WireMockCli.cli(wm).env("XENOPS_TOKEN", "abc\r\nX-Injected: 1").run("ls");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("XENOPS_TOKEN holds a character a bearer token cannot contain");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void jsonFlagWorksAfterANestedSubcommand() {
        wm.stubFor(get("/v1/pools").willReturn(okJson("{\"pools\":[]}")));

        Result r = WireMockCli.cli(wm).run("pool", "ls", "--json");

        assertThat(r.out()).isEqualTo("{\n  \"pools\": []\n}\n");
    }
}

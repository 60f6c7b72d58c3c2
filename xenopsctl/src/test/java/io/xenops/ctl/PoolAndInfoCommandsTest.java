package io.xenops.ctl;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.CliRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.xenops.ctl.Fixtures.HEALTH;
import static io.xenops.ctl.Fixtures.IMAGE_LIST;
import static io.xenops.ctl.Fixtures.POOL_HELLO;
import static io.xenops.ctl.Fixtures.POOL_LIST;
import static org.assertj.core.api.Assertions.assertThat;

/** pool ls/show/set, images, health and version. */
class PoolAndInfoCommandsTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    @Test
    void poolLsPrintsCountsRightAligned() {
        wm.stubFor(get("/v1/pools").willReturn(okJson(POOL_LIST)));

        Result r = WireMockCli.cli(wm).run("pool", "ls");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(getRequestedFor(urlEqualTo("/v1/pools")));
        assertThat(r.out()).isEqualTo("""
                IMAGE  TARGET  READY  BUILDING  WARM  COLD  FAILURES  LAST ERROR
                hello       4      3         1   120     2         0  -
                big        10      0         2     7    15         3  qemu exited: out of memory
                """);
    }

    @Test
    void poolLsShowsADashForCountersTheDaemonDoesNotReport() {
        wm.stubFor(get("/v1/pools").willReturn(okJson("{\"pools\":[{\"image\":\"hello\",\"target\":1,\"ready\":1,\"building\":0}]}")));

        Result r = WireMockCli.cli(wm).run("pool", "ls");

        assertThat(r.out().lines().skip(1).findFirst().orElseThrow())
                .isEqualTo("hello       1      1         0     -     -         -  -");
    }

    @Test
    void poolSetPutsTheTargetAndReportsThePool() {
        wm.stubFor(put("/v1/pools/hello").willReturn(okJson(POOL_HELLO)));

        Result r = WireMockCli.cli(wm).run("pool", "set", "hello", "8");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        wm.verify(1, putRequestedFor(urlEqualTo("/v1/pools/hello"))
                .withHeader("Content-Type", containing("application/json"))
                .withRequestBody(equalToJson("{\"target\":8}")));
        assertThat(r.out()).isEqualTo("pool hello: target 8, ready 3, building 5\n");
    }

    @Test
    void poolSetJsonPrintsThePoolDocument() {
        wm.stubFor(put("/v1/pools/hello").willReturn(okJson(POOL_HELLO)));

        Result r = WireMockCli.cli(wm).run("pool", "set", "--compact", "hello", "8");

        assertThat(r.out()).isEqualTo("{\"image\":\"hello\",\"target\":8,\"ready\":3,\"building\":5}\n");
    }

    @Test
    void poolSetRejectsANonNumericTargetBeforeSending() {
        Result r = WireMockCli.cli(wm).run("pool", "set", "hello", "lots");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("TARGET").contains("'lots'").contains("Try 'xenopsctl pool set --help'");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void poolSetOutOfRangeIsTheDaemonsCallAndComesBackAsAnApiError() {
        wm.stubFor(put("/v1/pools/hello").willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/problem+json").withBody("""
                        {"type":"urn:xenops:problem:invalid-request","title":"Invalid request","status":400,
                         "detail":"target must be between 0 and 10000"}""")));

        Result r = WireMockCli.cli(wm).run("pool", "set", "hello", "--", "-1");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.API_ERROR);
        wm.verify(putRequestedFor(urlEqualTo("/v1/pools/hello")).withRequestBody(equalToJson("{\"target\":-1}")));
        assertThat(r.err()).isEqualTo("xenopsctl: target must be between 0 and 10000 (400)\n");
    }

    @Test
    void poolShowGetsOnePool() {
        wm.stubFor(get("/v1/pools/big").willReturn(okJson("""
                {"image":"big","target":10,"ready":0,"building":2,"last_error":"qemu exited: out of memory"}""")));

        Result r = WireMockCli.cli(wm).run("pool", "show", "big");

        assertThat(r.out()).isEqualTo("pool big: target 10, ready 0, building 2\nlast error: qemu exited: out of memory\n");
    }

    @Test
    void poolWithoutASubcommandIsAUsageErrorShowingTheSubcommands() {
        Result r = WireMockCli.cli(wm).run("pool");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("Usage: xenopsctl pool").contains("ls").contains("set");
    }

    @Test
    void imagesPrintsSizesAndShortDigests() {
        wm.stubFor(get("/v1/images").willReturn(okJson(IMAGE_LIST)));

        Result r = WireMockCli.cli(wm).run("images");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("""
                NAME   VERSION  VCPUS  MEMORY  BOOT       SIZE  DIGEST
                hello  0.1.0        1   4 MiB  pvh,pv  6.0 KiB  9f86d081884c
                """);
    }

    @Test
    void imagesJsonIsTheListDocument() {
        wm.stubFor(get("/v1/images").willReturn(okJson(IMAGE_LIST)));

        Result r = WireMockCli.cli(wm).run("images", "--json");

        assertThat(r.out()).contains("\"memory_mib\": 4").contains("\"boot_modes\": [\n");
    }

    @Test
    void healthShowsDriverAccelAndVersion() {
        wm.stubFor(get("/v1/health").willReturn(okJson(HEALTH)));

        Result r = WireMockCli.cli(wm).run("health");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("xenopsd ok: driver qemu, accel kvm, version 0.1.0\n");
    }

    @Test
    void versionShowsClientAndDaemon() {
        wm.stubFor(get("/v1/health").willReturn(okJson(HEALTH)));

        Result r = WireMockCli.cli(wm).run("version");

        assertThat(Version.current()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(r.out()).isEqualTo("xenopsctl " + Version.current() + "\nxenopsd   0.1.0 (driver qemu, accel kvm)\n");
    }

    @Test
    void versionJsonCombinesTheClientVersionWithTheHealthDocument() {
        wm.stubFor(get("/v1/health").willReturn(okJson(HEALTH)));

        Result r = WireMockCli.cli(wm).run("version", "--compact");

        assertThat(r.out()).isEqualTo("{\"xenopsctl\":\"" + Version.current() + "\",\"xenopsd\":" + HEALTH + "}\n");
    }

    @Test
    void versionClientOnlyDoesNotContactTheDaemon() {
        Result r = WireMockCli.cli(wm).run("version", "--client");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("xenopsctl " + Version.current() + "\n");
        wm.verify(0, anyRequestedFor(anyUrl()));
    }
}

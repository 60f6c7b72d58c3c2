package io.xenops.ctl.api;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.xenops.ctl.WireMockCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ConnectException;
import java.net.URI;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiClientTest {
    @RegisterExtension
    static WireMockExtension wm = WireMockCli.server();

    private static ApiClient client(Duration timeout) {
        URI base = URI.create(wm.getRuntimeInfo().getHttpBaseUrl());
        return new ApiClient(ApiClient.defaultHttpClient(base, Duration.ofSeconds(2)), base, null, "test",
                timeout, new JsonCodec());
    }

    @Test
    void decodesTypedRecordsFromSnakeCase() {
        wm.stubFor(get("/v1/images").willReturn(okJson("""
                {"images":[{"name":"hello","memory_mib":4,"vcpus":1,"boot_modes":["pvh"],"size_bytes":6144}]}""")));

        try (ApiClient api = client(Duration.ofSeconds(5))) {
            Image image = api.listImages().value().images().getFirst();

            assertThat(image).isEqualTo(new Image("hello", null, null, 4, 1, java.util.List.of("pvh"), 6144L));
        }
    }

    @Test
    void aDaemonThatDoesNotAnswerInTimeIsUnreachable() {
        wm.stubFor(get("/v1/vms").willReturn(okJson("{\"vms\":[]}").withFixedDelay(3_000)));

        try (ApiClient api = client(Duration.ofMillis(200))) {
            assertThatThrownBy(api::listVms)
                    .isInstanceOf(DaemonUnreachableException.class)
                    .hasMessage("xenopsd at " + api.base() + " did not answer within 200 ms");
        }
    }

    @Test
    void spawnWaitsLongerThanTheGuestTimeoutItAsksFor() {
        // The daemon answers 504 itself after timeout_ms; the HTTP deadline must not cut in first.
        wm.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post("/v1/vms")
                .willReturn(okJson("{\"id\":\"vm-3f9c2a7b1d04\",\"image\":\"hello\",\"state\":\"running\","
                        + "\"created_at\":\"2026-11-26T23:29:58Z\"}").withFixedDelay(600)));

        try (ApiClient api = client(Duration.ofMillis(100))) {
            Vm vm = api.spawn(new SpawnRequest("hello", "ready", null, 1_000)).value();

            assertThat(vm.id()).isEqualTo("vm-3f9c2a7b1d04");
        }
    }

    @Test
    void plainHttpClientRefusesTls() {
        URI https = URI.create("https://127.0.0.1:1");
        URI http = URI.create("http://127.0.0.1:1");

        assertThat(ApiClient.defaultHttpClient(http, Duration.ofSeconds(1)).sslContext())
                .isInstanceOf(PlainHttpOnly.class);
        assertThat(ApiClient.defaultHttpClient(https, Duration.ofSeconds(1)).sslContext())
                .isNotInstanceOf(PlainHttpOnly.class);
        assertThatThrownBy(() -> new PlainHttpOnly().createSSLEngine())
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void segmentsArePercentEncodedExceptUnreservedCharacters() {
        assertThat(ApiClient.segment("vm-3f9c2a7b1d04")).isEqualTo("vm-3f9c2a7b1d04");
        assertThat(ApiClient.segment("hello-world.v2_x~")).isEqualTo("hello-world.v2_x~");
        assertThat(ApiClient.segment("a/b?c#d e")).isEqualTo("a%2Fb%3Fc%23d%20e");
        assertThat(ApiClient.segment("é")).isEqualTo("%C3%A9");
        assertThat(ApiClient.segment("..")).isEqualTo("%2E%2E");
    }

    @Test
    void connectionFailuresAreNamedTheWayOperatorsSayThem() {
        // What the JDK's HttpClient throws for a refused connection: no message anywhere.
        assertThat(ApiClient.reason(new ConnectException())).isEqualTo("connection refused");
        ConnectException refused = new ConnectException();
        refused.initCause(new ClosedChannelException());
        assertThat(ApiClient.reason(refused)).isEqualTo("connection refused");

        ConnectException unknownHost = new ConnectException();
        unknownHost.initCause(new UnresolvedAddressException());
        assertThat(ApiClient.reason(unknownHost)).isEqualTo("unknown host");

        assertThat(ApiClient.reason(new ConnectException("No route to host"))).isEqualTo("No route to host");
        assertThat(ApiClient.reason(new ConnectException("Connection refused"))).isEqualTo("connection refused");
    }
}

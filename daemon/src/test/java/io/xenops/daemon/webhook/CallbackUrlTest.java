package io.xenops.daemon.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CallbackUrlTest {
    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:9000/hook", "https://orchestrator.example/xenops/events?k=v",
            "HTTPS://example.org", "http://[::1]:8080/x"})
    void acceptsAbsoluteHttpAndHttps(String url) {
        assertThat(CallbackUrl.parse(url).uri().toString()).isEqualTo(url);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ftp://example.org/x                 | must use http or https",
            "file:///etc/passwd                  | must use http or https",
            "javascript:alert(1)                 | must use http or https",
            "/relative/path                      | absolute",
            "http://user:secret@example.org/hook | credentials",
            "http://token@example.org/hook       | credentials",
            "http:opaque                         | no host",
            "http:///no-host                     | no host",
            "http://example.org/hook#frag        | fragment",
            "http://exa mple.org/                | not a valid URL",
            "http://example.org:0/               | invalid port"})
    void rejectsWithAReasonFitForAClient(String url, String reason) {
        assertThatThrownBy(() -> CallbackUrl.parse(url.strip()))
                .isInstanceOf(InvalidCallbackUrlException.class)
                .hasMessageContaining(reason.strip());
    }

    @Test
    void rejectsEmptyAndOverlongUrls() {
        assertThatThrownBy(() -> CallbackUrl.parse(" ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> CallbackUrl.parse(null)).hasMessageContaining("empty");
        assertThatThrownBy(() -> CallbackUrl.parse("http://example.org/" + "a".repeat(2100))).hasMessageContaining("longer");
    }

    @Test
    void logsNeverShowTheQuery() {
        CallbackUrl u = CallbackUrl.parse("https://example.org:8443/hook?token=s3cret");
        assertThat(u.redacted()).isEqualTo("https://example.org:8443/hook?…");
        assertThat(u.toString()).doesNotContain("s3cret");
    }
}

package io.xenops.daemon.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebhookEventTest {
    @Test
    void vmAndPoolEventsCarryIdsAndKindsOnly() {
        Instant at = Instant.parse("2026-11-26T12:00:00.123Z");
        assertThat(new WebhookEvent.Vm("exited", "vm-7", "sha256", at).toJson("d-1").encode())
                .isEqualTo("{\"delivery\":\"d-1\",\"event\":\"exited\",\"vm\":\"vm-7\",\"image\":\"sha256\",\"at\":\"2026-11-26T12:00:00.123Z\"}");
        assertThat(new WebhookEvent.Pool("filled", "hello", at).toJson("d-2").encode())
                .isEqualTo("{\"delivery\":\"d-2\",\"event\":\"filled\",\"pool\":\"hello\",\"image\":\"hello\",\"at\":\"2026-11-26T12:00:00.123Z\"}");
    }

    @Test
    void signerWantsARealSecret(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> new Signer("short".getBytes(StandardCharsets.UTF_8))).hasMessageContaining("16 bytes");
        Path empty = Files.writeString(tmp.resolve("empty"), "\n");
        assertThatThrownBy(() -> Signer.fromFile(empty)).hasMessageContaining("empty");
        Path good = Files.writeString(tmp.resolve("secret"), "0123456789abcdef0123\n");
        assertThat(Signer.fromFile(good).sign(1, new byte[0]))
                .isEqualTo(new Signer("0123456789abcdef0123".getBytes(StandardCharsets.UTF_8)).sign(1, new byte[0]))
                .startsWith("sha256=").hasSize(7 + 64);
    }
}

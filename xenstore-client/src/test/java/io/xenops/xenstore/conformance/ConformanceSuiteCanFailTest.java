package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.transport.InMemoryTransport;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.FrameEncoder;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.Payloads;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite must be able to fail: against a fake server that acknowledges every request with "OK"
 * and never sends watch events, the checks about behaviour fail, and the runner says so.
 */
class ConformanceSuiteCanFailTest {

    /** Answers every request with an OK reply of the same type; nothing else. */
    private static Transport yesServer() {
        InMemoryTransport[] pair = InMemoryTransport.pair("yes");
        Thread.ofVirtual().start(() -> {
            FrameDecoder d = new FrameDecoder(Limits.standard());
            ByteBuffer buf = ByteBuffer.allocate(65536);
            try {
                while (true) {
                    buf.clear();
                    if (pair[1].read(buf) < 0) {
                        return;
                    }
                    buf.flip();
                    Frame f;
                    while ((f = d.next(buf)) != null) {
                        byte[] payload = f.type() == MessageType.TRANSACTION_START.code()
                                ? Payloads.nulTerminated("1") : Payloads.nulTerminated("OK");
                        pair[1].write(List.of(ByteBuffer.wrap(FrameEncoder.encodeUnchecked(
                                new Frame(f.type(), f.reqId(), f.txId(), payload)))));
                    }
                }
            } catch (IOException | RuntimeException e) {
                pair[1].close();
            }
        });
        return pair[0];
    }

    private final ConformanceTarget liar = new ConformanceTarget() {
        public String name() {
            return "a server that says OK to everything";
        }

        public XenStoreClient connect() {
            return XenStoreClient.open(yesServer());
        }

        public Transport openRaw() {
            return yesServer();
        }

        public Set<Capability> capabilities() {
            return Set.of();
        }

        public Duration patience() {
            return Duration.ofMillis(300);
        }

        public Duration quietPeriod() {
            return Duration.ofMillis(50);
        }
    };

    @Test
    void mostChecksFailAgainstAServerThatOnlySaysOk() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        List<CheckResult> results = new ConformanceSuite().run(liar, Pattern.compile(""),
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        long failed = results.stream().filter(r -> r.status() == CheckResult.Status.FAILED).count();
        long skipped = results.stream().filter(r -> r.status() == CheckResult.Status.SKIPPED).count();
        assertThat(skipped).isEqualTo(14);
        assertThat(failed).isGreaterThanOrEqualTo(30);
        assertThat(results).filteredOn(r -> r.check().equals("watch-fires-once-on-registration"))
                .singleElement().extracting(CheckResult::status).isEqualTo(CheckResult.Status.FAILED);
        assertThat(results).filteredOn(r -> r.check().equals("transaction-conflict-is-eagain"))
                .singleElement().extracting(CheckResult::status).isEqualTo(CheckResult.Status.FAILED);
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(out.lines().toList().getLast())
                .isEqualTo((results.size() - failed - skipped) + " passed, " + failed + " failed, " + skipped + " skipped");
    }

    /**
     * The per-server expectations can fail too: our server answers like C xenstored, so every check
     * where oxenstored differs must fail when the suite is told it is talking to oxenstored.
     */
    @Test
    void oxenstoredExpectationsFailAgainstAServerWithCXenstoredSemantics() {
        try (io.xenops.xenstore.server.XenStoreServer server = new io.xenops.xenstore.server.XenStoreServer()) {
            InProcessTarget ours = new InProcessTarget(server);
            ConformanceTarget posingAsOxenstored = new ConformanceTarget() {
                public String name() {
                    return "our server, expected to answer like oxenstored";
                }

                public XenStoreClient connect() {
                    return ours.connect();
                }

                public Transport openRaw() {
                    return ours.openRaw();
                }

                public Set<Capability> capabilities() {
                    return ours.capabilities();
                }

                public ServerProfile profile() {
                    return ServerProfile.OXENSTORED;
                }
            };
            List<String> differing = List.of("large-value-roundtrip", "directory-larger-than-one-payload",
                    "unknown-transaction-is-enoent", "ended-transaction-is-enoent", "reset-watches-drops-transactions",
                    "oversized-frame-drops-connection", "guest-node-quota");
            ConformanceSuite suite = new ConformanceSuite();
            for (ConformanceSuite.Check check : suite.checks()) {
                if (differing.contains(check.name())) {
                    CheckResult wrong = suite.run(posingAsOxenstored, check);
                    assertThat(wrong.status()).as(check.name() + ": " + wrong.detail()).isEqualTo(CheckResult.Status.FAILED);
                    assertThat(suite.run(ours, check).status()).as(check.name()).isEqualTo(CheckResult.Status.PASSED);
                }
            }
        }
    }

    @Test
    void mainRunsTheSuiteAgainstOurServerAndPrintsTheSummary() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ConformanceMain.run(new String[] {"--in-process", "--only", "^(write|watch)-"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(text).isZero();
        assertThat(text).contains("PASS write-read-roundtrip").contains("PASS watch-fires-once-on-registration")
                .doesNotContain("transaction-");
        assertThat(text.lines().toList().getLast()).matches("\\d+ passed, 0 failed, 0 skipped");
    }

    @Test
    void mainRejectsUnknownArguments() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ConformanceMain.run(new String[] {"--bogus"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown argument --bogus");
    }

    @Test
    void mainFailsWhenTheTargetIsUnreachable() throws IOException {
        java.nio.file.Path missing = java.nio.file.Files.createTempDirectory("xs").resolve("no-socket");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = ConformanceMain.run(new String[] {"--socket", missing.toString(), "--only", "write-read", "--patience-ms", "500"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream()));
        assertThat(code).isEqualTo(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("FAIL write-read-roundtrip").contains("0 passed, 1 failed");
    }
}

package io.xenops.guest.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.guest.GuestProtocol;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile console lines through {@link GuestProtocol#decode}: a guest is untrusted code, and its console is
 * the one channel it has to the daemon. Seeded ({@code -Dxenops.fuzz.seed}); counts by
 * {@code -Dxenops.fuzz.count} (default 50,000 lines per property).
 */
class GuestProtocolFuzzTest {
    // Fixed by default so CI runs the inputs that were verified; -Dxenops.fuzz.seed=random explores new ones.
    static final long SEED = "random".equals(System.getProperty("xenops.fuzz.seed")) ? System.nanoTime()
            : Long.getLong("xenops.fuzz.seed", 20261127L);
    static final int COUNT = Integer.getInteger("xenops.fuzz.count", 50_000);
    static final String[] HEADS = {"READY", "PONG", "RESULT", "ERR", "PING", "ARGS", "EXIT", "ready", "READY\t", "", " "};

    @Test
    void anyLineDecodesWithoutThrowingAndNothingOutgrowsTheLine() {
        Random rnd = new Random(SEED);
        System.out.println("GuestProtocolFuzzTest seed=" + SEED + " lines=" + COUNT);
        for (int i = 0; i < COUNT; i++) {
            String line = hostileLine(rnd);
            GuestMessage m;
            try {
                m = GuestProtocol.decode(line);
            } catch (RuntimeException e) {
                throw new AssertionError("decode threw on " + show(line), e);
            }
            assertThat(m).as("decode(%s)", show(line)).isNotNull();
            // The decoder only slices the input: no field may be longer than the line, so a guest cannot make it allocate more.
            assertThat(fieldChars(m)).as("field sizes of %s", show(line)).isLessThanOrEqualTo(line.length());
            String stripped = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            switch (m) {
                case GuestMessage.Ready r -> {
                    assertThat(stripped).isEqualTo("READY " + r.image() + " " + r.id());
                    assertThat(r.image()).doesNotContain(" ").isNotEmpty();
                    assertThat(r.id()).doesNotContain(" ").isNotEmpty();
                }
                case GuestMessage.Pong p -> {
                    assertThat(stripped).isEqualTo("PONG " + p.token());
                    assertThat(p.token()).matches("[A-Za-z0-9._-]{1,64}");
                }
                case GuestMessage.Result r -> {
                    assertThat(r.token()).matches("[A-Za-z0-9._-]{1,64}");
                    assertThat(stripped).startsWith("RESULT " + r.token());
                }
                // A bare "ERR" is an error with no text.
                case GuestMessage.Error e -> assertThat(stripped).isIn("ERR " + e.text(), e.text().isEmpty() ? "ERR" : "ERR " + e.text());
                case GuestMessage.Other o -> assertThat(o.line()).isEqualTo(stripped);
            }
        }
    }

    /** What the host sends always decodes back, on the guest's side of the same grammar, as what was meant. */
    @Test
    void answersTheDaemonWaitsForAreRecognisedExactly() {
        Random rnd = new Random(SEED ^ 1);
        for (int i = 0; i < COUNT; i++) {
            String token = token(rnd);
            String text = printable(rnd, rnd.nextInt(GuestProtocol.MAX_PAYLOAD));
            assertThat(GuestProtocol.decode("PONG " + token)).isEqualTo(new GuestMessage.Pong(token));
            assertThat(GuestProtocol.decode("RESULT " + token + " " + text + "\r")).isEqualTo(new GuestMessage.Result(token, text));
            // A token the host could never have sent must not be taken for an answer.
            String bad = token + badTokenChar(rnd);
            assertThat(GuestProtocol.decode("PONG " + bad)).as("PONG %s", bad).isInstanceOf(GuestMessage.Other.class);
            // Commands with a payload the API let through always encode to one line.
            if (GuestProtocol.isValidPayload(text)) {
                String wire = GuestProtocol.encode(new GuestCommand.Args(token, text));
                assertThat(wire).doesNotContain("\n").doesNotContain("\r");
                assertThat(wire.length()).isLessThanOrEqualTo(GuestProtocol.MAX_LINE);
            }
        }
    }

    @Test
    void invalidPayloadsAreRefusedBeforeTheyReachTheWire() {
        Random rnd = new Random(SEED ^ 2);
        int refused = 0;
        for (int i = 0; i < COUNT; i++) {
            String p = hostileLine(rnd);
            boolean ok = GuestProtocol.isValidPayload(p);
            boolean printable = p.length() <= GuestProtocol.MAX_PAYLOAD && p.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
            assertThat(ok).as("isValidPayload(%s)", show(p)).isEqualTo(printable);
            if (!ok) {
                refused++;
                String payload = p;
                try {
                    GuestProtocol.encode(new GuestCommand.Args("t", payload));
                    throw new AssertionError("an invalid payload was encoded: " + show(payload));
                } catch (IllegalArgumentException expected) {
                    // the record's constructor or the encoder refused it: the only acceptable outcome
                }
            }
        }
        assertThat(refused).as("the generator must produce invalid payloads").isGreaterThan(COUNT / 10);
    }

    static int fieldChars(GuestMessage m) {
        return switch (m) {
            case GuestMessage.Ready r -> r.image().length() + r.id().length();
            case GuestMessage.Pong p -> p.token().length();
            case GuestMessage.Result r -> r.token().length() + r.text().length();
            case GuestMessage.Error e -> e.text().length();
            case GuestMessage.Other o -> o.line().length();
        };
    }

    static String hostileLine(Random rnd) {
        String head = HEADS[rnd.nextInt(HEADS.length)];
        return switch (rnd.nextInt(8)) {
            case 0 -> head;
            case 1 -> head + " " + token(rnd);
            case 2 -> head + " " + token(rnd) + " " + printable(rnd, rnd.nextInt(50));
            case 3 -> head + "  " + token(rnd) + "  " + token(rnd) + " ";
            case 4 -> head + " " + noise(rnd, rnd.nextInt(2000)) + (rnd.nextBoolean() ? "\r" : "");
            case 5 -> noise(rnd, rnd.nextInt(200));
            case 6 -> head + " " + "x".repeat(rnd.nextInt(20_000)); // far over MAX_LINE: a flooding guest
            default -> head + " " + token(rnd) + "\r\r";
        };
    }

    static String token(Random rnd) {
        String alphabet = "ABCXYZabcxyz0189._-";
        int n = 1 + rnd.nextInt(64);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        return b.toString();
    }

    static char badTokenChar(Random rnd) {
        String bad = " /:\u0000\u00e9\u200b@\t";
        return bad.charAt(rnd.nextInt(bad.length()));
    }

    static String printable(Random rnd, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) b.append((char) (0x20 + rnd.nextInt(0x5f)));
        return b.toString();
    }

    static String noise(Random rnd, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(6);
            b.appendCodePoint(switch (k) {
                case 0 -> rnd.nextInt(0x20);
                case 1 -> 0x80 + rnd.nextInt(0x80); // what a Latin-1 decode of a raw byte becomes
                case 2 -> 0xd800 + rnd.nextInt(0x800); // lone surrogates
                case 3 -> 0x1f600 + rnd.nextInt(0x40);
                default -> 0x20 + rnd.nextInt(0x5f);
            });
        }
        return b.toString();
    }

    static String show(String s) {
        String t = s.length() > 120 ? s.substring(0, 120) + "...(" + s.length() + ")" : s;
        StringBuilder b = new StringBuilder("\"");
        t.chars().forEach(c -> b.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return b.append('"').toString();
    }
}

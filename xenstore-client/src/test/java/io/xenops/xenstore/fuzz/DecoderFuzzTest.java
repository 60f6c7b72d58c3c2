package io.xenops.xenstore.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.xenops.xenstore.server.XenStoreServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing with Jazzer. Not part of the normal build (Jazzer's start-up alone
 * takes about a minute here); run one target at a time with the {@code fuzz} profile:
 * <pre>
 * mvn -f xenstore-client/pom.xml -Pfuzz test -Dtest='DecoderFuzzTest#frames' -Djazzer.max_duration=120s
 * </pre>
 * The properties checked are in {@link Robustness}, shared with {@code RobustnessTest}.
 */
@Tag("fuzz")
class DecoderFuzzTest {

    private static final XenStoreServer SERVER = new XenStoreServer();

    @AfterAll
    static void stop() {
        SERVER.close();
    }

    @FuzzTest(maxDuration = "60s")
    void frames(FuzzedDataProvider data) {
        int shape = data.consumeInt(0, Robustness.SHAPES.size() - 1);
        int[] pieces = data.consumeInts(4);
        byte[] stream = data.consumeRemainingAsBytes();
        Robustness.decodeStream(stream, pieces.length == 0 ? new int[] {stream.length} : pieces,
                Robustness.SHAPES.get(shape));
    }

    @FuzzTest(maxDuration = "60s")
    void server(byte[] garbage) throws Exception {
        Robustness.serverSurvives(SERVER, garbage);
    }

    @FuzzTest(maxDuration = "60s")
    void client(byte[] garbage) throws Exception {
        Robustness.clientNeverHangs(garbage);
    }
}

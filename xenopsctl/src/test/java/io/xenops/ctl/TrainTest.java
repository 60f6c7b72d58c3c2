package io.xenops.ctl;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TrainTest {
    /**
     * The CDS archive holds only what the training run loaded: if its canned answers drifted from
     * what the CLI reads, commands would fail and their classes would be missing from the archive.
     */
    @Test
    void trainingRunGoesThroughEverySuccessAndErrorPath() throws IOException {
        List<Integer> codes = Train.run();

        assertThat(codes).containsExactly(
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, // invoke and image
                0, 0, 0, 0, 0, 0, 0, // xenstore
                ExitCodes.API_ERROR, ExitCodes.USAGE, ExitCodes.UNREACHABLE,
                ExitCodes.API_ERROR, ExitCodes.UNREACHABLE); // xenstore: removed node, no xenstored
    }
}

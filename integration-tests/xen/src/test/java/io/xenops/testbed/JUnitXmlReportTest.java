package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;

class JUnitXmlReportTest {

    private static final String REPORT = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="JUnit Jupiter" tests="3" skipped="1" failures="1" errors="0" time="2.5">
              <testcase name="ok()" classname="a.B" time="1.25"><system-out>hello</system-out></testcase>
              <testcase name="bad()" classname="a.B" time="0.5">
                <failure message="expected 1" type="org.opentest4j.AssertionFailedError">trace line</failure>
              </testcase>
              <testcase name="later()" classname="a.C" time="0"><skipped message="not yet"/></testcase>
            </testsuite>
            """;

    @Test
    void readsOutcomesTimesAndOutput() throws Exception {
        List<Dom0TestCase> cases = JUnitXmlReport.parse(new ByteArrayInputStream(REPORT.getBytes(StandardCharsets.UTF_8)));
        assertThat(cases).hasSize(3);
        assertThat(cases.get(0)).isEqualTo(new Dom0TestCase("a.B", "ok()", Duration.ofMillis(1250), new Dom0TestCase.Passed(), "hello"));
        assertThat(cases.get(1).outcome()).isEqualTo(
                new Dom0TestCase.Failed("failure", "org.opentest4j.AssertionFailedError", "expected 1", "trace line"));
        assertThat(cases.get(2).outcome()).isEqualTo(new Dom0TestCase.Skipped("not yet"));
    }

    @Test
    void replaysFailuresOnTheHostAndChecksTheLauncherStatus() throws Exception {
        List<Dom0TestCase> cases = JUnitXmlReport.parse(new ByteArrayInputStream(REPORT.getBytes(StandardCharsets.UTF_8)));
        CommandResult launcherSaysOk = new CommandResult(0, "", "", Duration.ZERO);
        List<DynamicNode> nodes = Dom0Suite.toNodes(new Dom0Suite.Run(List.of(String.class), launcherSaysOk, cases, true));
        // String.class matched nothing: its container holds one failing test; the rest go to "other";
        // the launcher check fails because exit 0 contradicts a failed test.
        assertThat(nodes).hasSize(3);
        DynamicTest noTests = (DynamicTest) ((DynamicContainer) nodes.get(0)).getChildren().findFirst().orElseThrow();
        assertThatThrownBy(() -> noTests.getExecutable().execute()).isInstanceOf(AssertionError.class)
                .hasMessageContaining("no test of java.lang.String ran");
        List<DynamicTest> other = ((DynamicContainer) nodes.get(1)).getChildren().map(DynamicTest.class::cast).toList();
        assertThatThrownBy(() -> other.get(1).getExecutable().execute()).isInstanceOf(Dom0Suite.Dom0AssertionError.class)
                .hasMessageContaining("expected 1").hasMessageContaining("trace line");
        DynamicTest launcher = (DynamicTest) nodes.get(2);
        assertThatThrownBy(() -> launcher.getExecutable().execute()).hasMessageContaining("exited 0, expected 1");
    }

    @Test
    void aMissingReportIsOneFailure() {
        CommandResult crashed = new CommandResult(134, "", "hs_err", Duration.ZERO);
        List<DynamicNode> nodes = Dom0Suite.toNodes(new Dom0Suite.Run(List.of(String.class), crashed, List.of(), false));
        assertThat(nodes).singleElement().isInstanceOf(DynamicTest.class);
        assertThatThrownBy(() -> ((DynamicTest) nodes.getFirst()).getExecutable().execute())
                .hasMessageContaining("wrote no report").hasMessageContaining("exit 134");
    }
}

package io.xenops.testbed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.TestAbortedException;

/**
 * xenstore-client's conformance suite (its plain-Java runner, ConformanceMain) against the real
 * xenstored inside dom0, each check replayed as a host-side dynamic test. The runner prints one line
 * per check ("PASS name (N ms)", "FAIL name: detail", "SKIP name: detail") and a summary. dom0 has
 * xenstore-utils on its PATH, so the interop checks against Xen's own C tools run too.
 */
final class XenStoreConformance {

    private static final String MAIN = "io.xenops.xenstore.conformance.ConformanceMain";
    private static final Pattern LINE = Pattern.compile("^(PASS|FAIL|SKIP) (\\S+)(?: \\((\\d+) ms\\)|: (.*))?$");

    private XenStoreConformance() {
    }

    static Stream<DynamicNode> against(Dom0Suite dom0, String path) {
        CommandResult r = dom0.xen().run(dom0.java().commandLine(MAIN, List.of("--socket", path, "--capabilities", "XENSTORE_TOOLS")), Duration.ofMinutes(10));
        System.out.println("xenstore conformance against " + path + " in dom0: " + r.describe());
        List<DynamicNode> tests = new ArrayList<>();
        int failed = 0;
        for (String line : r.stdout().lines().toList()) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String status = m.group(1);
            String detail = m.group(4) == null ? "" : m.group(4);
            failed += status.equals("FAIL") ? 1 : 0;
            tests.add(DynamicTest.dynamicTest(m.group(2), () -> {
                switch (status) {
                    case "FAIL" -> throw new AssertionError("real xenstored at " + path + " in dom0: " + detail);
                    case "SKIP" -> throw new TestAbortedException(detail);
                    default -> {
                    }
                }
            }));
        }
        int expectedExit = failed > 0 ? 1 : 0;
        int checks = tests.size();
        tests.add(DynamicTest.dynamicTest("conformance runner finished", () -> {
            if (checks == 0 || r.exitCode() != expectedExit) {
                throw new AssertionError(checks + " checks reported, runner " + r.describe());
            }
        }));
        return tests.stream();
    }
}

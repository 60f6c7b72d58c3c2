package io.xenops.testbed;

import io.xenops.xenstore.conformance.Capability;
import io.xenops.xenstore.conformance.ConformanceSuite;
import io.xenops.xenstore.conformance.ServerProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;

/**
 * xenstore-client's conformance suite (its plain-Java runner, ConformanceMain) against the real
 * xenstored inside dom0, each check replayed as a host-side dynamic test. The runner prints one line
 * per check ("PASS name (N ms)", "FAIL name: detail", "SKIP name: detail") and a summary. dom0 has
 * xenstore-utils on its PATH, so the interop checks against Xen's own C tools run too.
 *
 * <p>The runner is told which daemon listens ({@code --server}): where oxenstored and C xenstored
 * differ, each check asserts that daemon's own behaviour. Checks that need what a dom0 socket cannot
 * give (a guest's connection, made-up domains, GET/SET_QUOTA, which Xen 4.17 lacks) are not turned
 * into skipped tests: the last test asserts that exactly those, and no other, were left out.
 */
final class XenStoreConformance {

    private static final String MAIN = "io.xenops.xenstore.conformance.ConformanceMain";
    private static final Pattern LINE = Pattern.compile("^(PASS|FAIL|SKIP) (\\S+)(?: \\((\\d+) ms\\)|: (.*))?$");
    /** What the suite can use in the testbed's dom0: Xen's xenstore-* tools, nothing more. */
    private static final Set<Capability> CAPABILITIES = EnumSet.of(Capability.XENSTORE_TOOLS);

    private XenStoreConformance() {
    }

    static Stream<DynamicNode> against(Dom0Suite dom0, String path, Xenstored daemon) {
        ServerProfile profile = switch (daemon) {
            case OXENSTORED -> ServerProfile.OXENSTORED;
            case C_XENSTORED -> ServerProfile.CXENSTORED;
        };
        String caps = CAPABILITIES.stream().map(Enum::name).collect(Collectors.joining(","));
        // 62 checks took 3 to 7 minutes under TCG at load 20 to 27 (JVM start included): room for more.
        CommandResult r = dom0.xen().run(dom0.java().commandLine(MAIN,
                List.of("--socket", path, "--server", profile.cliName(), "--capabilities", caps)), Duration.ofMinutes(15));
        System.out.println("xenstore conformance against " + profile.cliName() + " at " + path + " in dom0: " + r.describe());
        List<DynamicNode> tests = new ArrayList<>();
        Set<String> reported = new TreeSet<>();
        Set<String> skipped = new TreeSet<>();
        int failed = 0;
        for (String line : r.stdout().lines().toList()) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String status = m.group(1);
            String name = m.group(2);
            String detail = m.group(4) == null ? "" : m.group(4);
            reported.add(name);
            switch (status) {
                case "SKIP" -> skipped.add(name);
                case "FAIL" -> {
                    failed++;
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        throw new AssertionError(profile.cliName() + " at " + path + " in dom0: " + detail);
                    }));
                }
                default -> tests.add(DynamicTest.dynamicTest(name, () -> {
                }));
            }
        }
        ConformanceSuite suite = new ConformanceSuite();
        Set<String> all = suite.checks().stream().map(ConformanceSuite.Check::name).collect(Collectors.toCollection(TreeSet::new));
        Set<String> needMore = suite.checks().stream().filter(c -> !CAPABILITIES.containsAll(c.needs()))
                .map(ConformanceSuite.Check::name).collect(Collectors.toCollection(TreeSet::new));
        int expectedExit = failed > 0 ? 1 : 0;
        tests.add(DynamicTest.dynamicTest("conformance runner finished, every check reported", () -> {
            if (r.exitCode() != expectedExit || !reported.equals(all)) {
                throw new AssertionError("reported " + reported.size() + " of " + all.size() + " checks, runner " + r.describe());
            }
            if (!skipped.equals(needMore)) {
                throw new AssertionError("left out " + skipped + ", expected exactly the checks needing more than "
                        + CAPABILITIES + ": " + needMore);
            }
        }));
        return tests.stream();
    }
}

package io.xenops.testbed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.TestAbortedException;

/**
 * Runs JUnit test classes inside dom0, all in one JVM (JUnit Platform ConsoleLauncher), and turns
 * their results into host-side dynamic tests, one per in-dom0 test, so Surefire counts and reports
 * each of them. Use it from a {@code @TestFactory} of a {@link XenTestbed} class:
 *
 * <pre>{@code
 * @XenTestbed
 * class MySuiteTest {
 *     @TestFactory
 *     Stream<DynamicNode> inDom0(Dom0Suite dom0) {
 *         return dom0.dynamicTests(MyFirstInDom0.class, MySecondInDom0.class);
 *     }
 * }
 * }</pre>
 *
 * The in-dom0 classes are ordinary JUnit 5 classes in this module's test sources, named
 * {@code *InDom0} so that Surefire does not run them on the host.
 */
public final class Dom0Suite {

    private static final String LAUNCHER = "org.junit.platform.console.ConsoleLauncher";

    private final NestedXen xen;
    private final Dom0Java java;
    private final Duration timeout;

    public Dom0Suite(NestedXen xen, Dom0Java java, Duration timeout) {
        this.xen = xen;
        this.java = java;
        this.timeout = timeout;
    }

    public NestedXen xen() {
        return xen;
    }

    public Dom0Java java() {
        return java;
    }

    /** A suite whose in-dom0 JVM gets one more -D property. */
    public Dom0Suite withSystemProperty(String key, String value) {
        return new Dom0Suite(xen, java.withSystemProperty(key, value), timeout);
    }

    public Dom0Suite withTimeout(Duration value) {
        return new Dom0Suite(xen, java, value);
    }

    /** What one ConsoleLauncher run in dom0 produced. */
    public record Run(List<Class<?>> requested, CommandResult launcher, List<Dom0TestCase> cases, boolean reportWritten) {
    }

    /** Runs the classes in one dom0 JVM and returns the parsed results. */
    public Run run(Class<?>... testClasses) {
        return run(List.of(testClasses), List.of());
    }

    /**
     * Runs the classes, plus single methods of further classes ({@code Class#method} selectors, whose
     * classes must be in {@code methodClasses}), in one dom0 JVM: every JVM start in dom0 costs tens of
     * seconds under TCG, so a boot's suites share one.
     */
    public Run run(List<Class<?>> testClasses, List<String> methodSelectors) {
        if (testClasses.isEmpty()) {
            throw new IllegalArgumentException("no test classes");
        }
        List<String> args = new ArrayList<>(List.of("execute", "--disable-banner", "--disable-ansi-colors",
                "--details=tree", "--reports-dir=reports", "--fail-if-no-tests",
                "--config=junit.platform.output.capture.stdout=true",
                "--config=junit.platform.output.capture.stderr=true"));
        for (Class<?> c : testClasses) {
            boolean someMethods = methodSelectors.stream().anyMatch(m -> m.startsWith(c.getName() + "#"));
            if (!someMethods) args.add("--select-class=" + c.getName());
        }
        for (String m : methodSelectors) {
            if (testClasses.stream().noneMatch(c -> m.startsWith(c.getName() + "#"))) {
                throw new IllegalArgumentException("the class of " + m + " is not among the requested classes");
            }
            args.add("--select-method=" + m);
        }
        int job = xen.nextJobNumber();
        CommandResult result = xen.run("mkdir -p reports\nexec " + java.commandLine(LAUNCHER, args), timeout);
        Path reports = xen.jobDir(job).resolve("reports");
        boolean written = Files.isDirectory(reports) && !JUnitXmlReport.read(reports).isEmpty();
        List<Dom0TestCase> cases = written ? JUnitXmlReport.read(reports) : List.of();
        return new Run(List.copyOf(testClasses), result, cases, written);
    }

    /** Runs the classes in dom0 and returns one dynamic container per class, one test per in-dom0 test. */
    public Stream<DynamicNode> dynamicTests(Class<?>... testClasses) {
        return dynamicTests(List.of(testClasses), List.of());
    }

    /** As {@link #run(List, List)}, reported as {@link #dynamicTests(Class...)} does. */
    public Stream<DynamicNode> dynamicTests(List<Class<?>> testClasses, List<String> methodSelectors) {
        Run run = run(testClasses, methodSelectors);
        print(run);
        return toNodes(run).stream();
    }

    static List<DynamicNode> toNodes(Run run) {
        CommandResult launcher = run.launcher();
        if (!run.reportWritten()) {
            return List.of(DynamicTest.dynamicTest("dom0 JUnit run of " + names(run.requested()), () -> {
                throw new AssertionError("the JUnit run in dom0 wrote no report (launcher " + launcher.describe() + ")");
            }));
        }
        Map<Class<?>, List<Dom0TestCase>> byClass = new LinkedHashMap<>();
        run.requested().forEach(c -> byClass.put(c, new ArrayList<>()));
        List<Dom0TestCase> unmatched = new ArrayList<>();
        for (Dom0TestCase tc : run.cases()) {
            Class<?> owner = run.requested().stream()
                    .filter(c -> tc.className().equals(c.getName()) || tc.className().startsWith(c.getName() + "$"))
                    .findFirst().orElse(null);
            (owner == null ? unmatched : byClass.get(owner)).add(tc);
        }
        List<DynamicNode> nodes = new ArrayList<>();
        byClass.forEach((c, cases) -> {
            List<DynamicNode> tests = new ArrayList<>(cases.stream().map(Dom0Suite::toTest).toList());
            if (tests.isEmpty()) {
                tests.add(DynamicTest.dynamicTest("tests ran", () -> {
                    throw new AssertionError("no test of " + c.getName() + " ran in dom0 (launcher " + launcher.describe() + ")");
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(c.getSimpleName() + " (in dom0)", tests.stream()));
        });
        if (!unmatched.isEmpty()) {
            nodes.add(DynamicContainer.dynamicContainer("other (in dom0)", unmatched.stream().map(Dom0Suite::toTest)));
        }
        // The launcher's status must agree with the report: 0 when all passed, 1 when some failed.
        // Anything else (a JVM crash, a timeout: 124) means results may be missing.
        boolean anyFailed = run.cases().stream().anyMatch(tc -> tc.outcome() instanceof Dom0TestCase.Failed);
        nodes.add(DynamicTest.dynamicTest("dom0 JUnit launcher finished", () -> {
            int expected = anyFailed ? 1 : 0;
            if (launcher.exitCode() != expected) {
                throw new AssertionError("dom0 JUnit launcher exited " + launcher.exitCode() + ", expected " + expected
                        + " for the report it wrote: " + launcher.describe());
            }
        }));
        return nodes;
    }

    private static DynamicTest toTest(Dom0TestCase tc) {
        return DynamicTest.dynamicTest(tc.name(), () -> {
            switch (tc.outcome()) {
                case Dom0TestCase.Passed p -> {
                }
                case Dom0TestCase.Skipped s -> throw new TestAbortedException("skipped in dom0: " + s.reason());
                case Dom0TestCase.Failed f when f.kind().equals("failure") ->
                        throw new Dom0AssertionError(describe(tc, f));
                case Dom0TestCase.Failed f -> throw new Dom0TestError(describe(tc, f));
            }
        });
    }

    private static String describe(Dom0TestCase tc, Dom0TestCase.Failed f) {
        return "in dom0: " + f.type() + ": " + f.message() + "\n--- dom0 stack trace ---\n" + f.trace().strip()
                + (tc.output().isBlank() ? "" : "\n--- dom0 test output ---\n" + tc.output().strip());
    }

    private static void print(Run run) {
        System.out.printf("dom0 JUnit run: %d tests in %d ms (JVM start included), launcher exit %d%n",
                run.cases().size(), run.launcher().elapsed().toMillis(), run.launcher().exitCode());
        for (Dom0TestCase tc : run.cases()) {
            System.out.printf("  %-60s %7d ms  %s%n", tc.className().substring(tc.className().lastIndexOf('.') + 1) + "." + tc.name(),
                    tc.time().toMillis(), tc.outcome().getClass().getSimpleName());
        }
        System.out.println(run.launcher().stdout());
        if (!run.launcher().stderr().isBlank()) {
            System.out.println("--- launcher stderr ---\n" + run.launcher().stderr());
        }
    }

    private static String names(List<Class<?>> classes) {
        return Arrays.toString(classes.stream().map(Class::getSimpleName).toArray());
    }

    /** An assertion that failed inside dom0; its message carries dom0's stack trace. */
    public static final class Dom0AssertionError extends AssertionError {
        private static final long serialVersionUID = 1L;

        Dom0AssertionError(String message) {
            super(message);
        }
    }

    /** An exception (not an assertion) that a test threw inside dom0. */
    public static final class Dom0TestError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Dom0TestError(String message) {
            super(message);
        }
    }
}

package io.xenops.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit side of {@link XenTestbed}: one boot per test class, kept in the class's extension
 * store. The image is obtained once per test JVM (the root store), since every class uses the same.
 */
public final class XenTestbedExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(XenTestbedExtension.class);

    /** A booted testbed and how dom0 runs Java on it. */
    private record Booted(NestedXen xen, Dom0Java java, Duration suiteTimeout) {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        XenTestbed settings = AnnotationSupport.findAnnotation(testClass, XenTestbed.class)
                .orElseThrow(() -> new TestbedException(testClass + " uses XenTestbedExtension without @XenTestbed"));
        TestbedConfig base = TestbedConfig.fromSystemProperties();
        ImageBuilder.Outcome image = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("image",
                key -> new ImageBuilder(base.recipeDir(), base.workDir().resolve("image-build.log")).obtain(),
                ImageBuilder.Outcome.class);

        Dom0Java java = Dom0Java.ofThisJvm();
        // The in-dom0 code sees the same xenops.* settings as the host side (image paths, repo root).
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("xenops.")) {
                java = java.withSystemProperty(name, System.getProperty(name));
            }
        }
        // dom0 reads the classpath from a snapshot that no concurrent host build can change, and the
        // JDK, both cached in dom0; the repository (unikernel images, other build output) uncached.
        Path snapshotDir;
        try {
            Files.createDirectories(base.workDir());
            snapshotDir = Files.createTempDirectory(base.workDir(), "classpath-");
        } catch (IOException e) {
            throw new TestbedException("cannot create a classpath snapshot under " + base.workDir(), e);
        }
        java = ClasspathSnapshot.of(java, snapshotDir);
        Path repoRoot = Path.of(TestbedConfig.required("xenops.repo.root")).toAbsolutePath().normalize();
        List<Share> shares = new ArrayList<>();
        shares.add(new Share(repoRoot, false));
        shares.add(new Share(snapshotDir.toAbsolutePath().normalize(), true));
        if (!java.javaHome().startsWith(repoRoot)) {
            shares.add(new Share(java.javaHome(), true));
        }
        TestbedConfig config = base.withXenstored(settings.xenstored()).withShares(shares);

        NestedXen xen = NestedXen.boot(image.image(), config);
        record(config, testClass, image, xen);
        context.getStore(NAMESPACE).put("booted", new Booted(xen, java, Duration.ofSeconds(settings.dom0SuiteTimeoutSeconds())));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Booted booted = context.getStore(NAMESPACE).remove("booted", Booted.class);
        if (booted != null) {
            booted.xen().close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == NestedXen.class || type == Dom0Suite.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Booted booted = context.getStore(NAMESPACE).get("booted", Booted.class);
        if (booted == null) {
            throw new ParameterResolutionException("no nested Xen is booted for " + context.getDisplayName()
                    + " (is the class annotated with @XenTestbed?)");
        }
        Class<?> type = parameter.getParameter().getType();
        return type == NestedXen.class ? booted.xen() : new Dom0Suite(booted.xen(), booted.java(), booted.suiteTimeout());
    }

    /** Prints the phase timings and appends them to target/xen-testbed/timings.txt for docs/testbed.md. */
    private static void record(TestbedConfig config, Class<?> testClass, ImageBuilder.Outcome image, NestedXen xen) {
        String line = String.format("%s %s image=%s in %d ms (%s) boot: qemu-to-ready %d ms, dom0 uptime at ready %d ms, %s, %s",
                Instant.now(), testClass.getSimpleName(), image.built() ? "built" : "cached", image.elapsed().toMillis(),
                image.image().dir(), xen.timings().qemuToReady().toMillis(), xen.timings().dom0UptimeAtReady().toMillis(),
                config.xenstored(), xen.bootDir());
        System.out.println("nested Xen testbed: " + line);
        try {
            Files.writeString(config.workDir().resolve("timings.txt"), line + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("cannot write timings: " + e);
        }
    }
}

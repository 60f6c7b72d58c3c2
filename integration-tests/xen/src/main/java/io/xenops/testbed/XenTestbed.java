package io.xenops.testbed;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Boots one nested Xen for the annotated test class (before its first test, shut down after its
 * last) and lets its tests take a {@link NestedXen} (run shell commands in dom0) or a
 * {@link Dom0Suite} (run JUnit classes in dom0) as parameters. The dom0 image is built or taken from
 * the cache first. A testbed that cannot be built or booted fails the class; it is never skipped.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(XenTestbedExtension.class)
public @interface XenTestbed {

    /** The XenStore daemon dom0 runs. */
    Xenstored xenstored() default Xenstored.OXENSTORED;

    /** How long one {@link Dom0Suite} run (JVM start plus all its tests) may take inside dom0. */
    int dom0SuiteTimeoutSeconds() default 600;
}

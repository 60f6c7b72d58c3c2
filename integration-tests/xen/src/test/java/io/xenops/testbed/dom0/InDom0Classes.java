package io.xenops.testbed.dom0;

import java.util.List;

/**
 * The in-dom0 test classes, for the host-side suites (they are package-private here, like any JUnit
 * test class). Classes that run inside dom0 are named *InDom0 so Surefire never runs them on the host.
 */
public final class InDom0Classes {

    public static final List<Class<?>> XENSTORE = List.of(XenStoreWireInDom0.class);

    public static final List<Class<?>> ALL = List.of(XenStoreWireInDom0.class, PrivcmdHypercallInDom0.class,
            XlDomainLifecycleInDom0.class);

    private InDom0Classes() {
    }
}

package io.xenops.testbed;

/** What domain-builder's {@code XenDriverInDom0} needs from the dom0 JVM that runs it. */
final class XenDriverSuite {

    private XenDriverSuite() {
    }

    /** The suite's own switch, and the crash fixture, which the module's pom does not name. */
    static Dom0Suite properties(Dom0Suite dom0) {
        String crash = System.getProperty("xenops.repo.root") + "/unikernel/target/test-images/crash/kernel.elf";
        return dom0.withSystemProperty("xenops.xen.dom0", "true").withSystemProperty("xenops.crashKernel", crash);
    }
}

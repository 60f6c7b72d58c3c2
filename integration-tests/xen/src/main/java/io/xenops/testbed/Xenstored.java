package io.xenops.testbed;

/** Which of Debian's two XenStore daemons dom0 runs (written as XENSTORED= into /etc/default/xen). */
public enum Xenstored {
    /** The OCaml daemon, Debian's default. */
    OXENSTORED("/usr/sbin/oxenstored"),
    /** The C daemon. */
    C_XENSTORED("/usr/sbin/xenstored");

    private final String binary;

    Xenstored(String binary) {
        this.binary = binary;
    }

    /** Path of the daemon inside dom0. */
    public String binary() {
        return binary;
    }

    /** Process name as pgrep sees it. */
    public String processName() {
        return binary.substring(binary.lastIndexOf('/') + 1);
    }
}

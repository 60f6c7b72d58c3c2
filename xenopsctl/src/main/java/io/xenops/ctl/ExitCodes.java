package io.xenops.ctl;

/** The exit codes scripts can rely on; listed in --help and docs/cli.md. */
public final class ExitCodes {
    public static final int OK = 0;
    /** xenopsd answered with an error (problem+json), or with something the CLI cannot read. */
    public static final int API_ERROR = 1;
    /** The command line was wrong; nothing was sent. */
    public static final int USAGE = 2;
    /** No answer from xenopsd: not running, wrong address, or hung. */
    public static final int UNREACHABLE = 3;

    private ExitCodes() {
    }
}

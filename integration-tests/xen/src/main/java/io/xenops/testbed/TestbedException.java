package io.xenops.testbed;

/**
 * The testbed could not do what was asked (image build, boot, command channel). Unchecked so that a
 * JUnit callback can let it fail the suite with its message: a testbed that cannot run is a failure,
 * never a skip.
 */
public final class TestbedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TestbedException(String message) {
        super(message);
    }

    public TestbedException(String message, Throwable cause) {
        super(message, cause);
    }
}

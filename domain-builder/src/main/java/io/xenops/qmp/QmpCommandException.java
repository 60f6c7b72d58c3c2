package io.xenops.qmp;

/** QEMU answered a command with an error. Carries QMP's error class so callers can tell kinds apart. */
public class QmpCommandException extends RuntimeException {
    private final String command;
    private final String errorClass;

    public QmpCommandException(String command, String errorClass, String description) {
        super(command + ": " + errorClass + ": " + description);
        this.command = command;
        this.errorClass = errorClass;
    }

    public String command() {
        return command;
    }

    public String errorClass() {
        return errorClass;
    }
}

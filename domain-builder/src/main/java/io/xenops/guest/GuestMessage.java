package io.xenops.guest;

/** What a guest says to the host, one line each. */
public sealed interface GuestMessage {
    /** Printed once when the runtime has booted to the edge: the application is about to wait for input. */
    record Ready(String image, String id) implements GuestMessage {}

    record Pong(String token) implements GuestMessage {}

    /** The application's answer to {@link GuestCommand.Args}. */
    record Result(String token, String text) implements GuestMessage {}

    /** The guest refused a command or hit an error it could report. */
    record Error(String text) implements GuestMessage {}

    /** Any other console output (boot banner, application logging). */
    record Other(String line) implements GuestMessage {}
}

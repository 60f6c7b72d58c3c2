package io.xenops.image;

/** An image could not be read, validated or stored. The message says what and why. */
public class ImageException extends RuntimeException {
    public ImageException(String message) { super(message); }

    public ImageException(String message, Throwable cause) { super(message, cause); }
}

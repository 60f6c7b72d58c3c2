package io.xenops.daemon.config;

/** The configuration is unusable; the message names the setting and what is wrong with it. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) { super(message); }
}

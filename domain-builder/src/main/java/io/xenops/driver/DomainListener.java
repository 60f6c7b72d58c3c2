package io.xenops.driver;

/** Receives a driver's events. Called from driver threads: implementations hand off quickly. */
@FunctionalInterface
public interface DomainListener {
    void onEvent(DomainEvent event);
}

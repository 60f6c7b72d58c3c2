package io.xenops.driver;

/** What the hypervisor says about a domain. */
public enum DomainState { PAUSED, RUNNING, EXITED }

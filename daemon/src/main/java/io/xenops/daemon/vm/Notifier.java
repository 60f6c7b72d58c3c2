package io.xenops.daemon.vm;

/** Tells a client's callback URL what happened to its VM or pool (webhooks). */
@FunctionalInterface
public interface Notifier {
    /**
     * @param event   "ready" or "exited" (for VMs), "filled" (for pools)
     * @param subject the VM id or image name
     */
    void notify(String callbackUrl, String event, String subject, String image);
}

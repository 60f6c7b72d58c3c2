package io.xenops.xenstore.wire;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * Every request of the XenStore protocol, typed by the Java type of its successful reply
 * ({@code Void} for the plain {@code OK} acknowledgement). The payload formats are in
 * {@link RequestEncoder}/{@link RequestDecoder}; reply formats in {@link ReplyEncoder}/{@link ReplyDecoder}.
 *
 * @param <R> the reply's type
 */
public sealed interface Request<R> {

    MessageType type();

    /** Whether the tx_id header field means something for this request (xenstore.txt). */
    default boolean transactional() {
        return false;
    }

    /** READ {@code <path>|} → {@code <value|>}. */
    record Read(String path) implements Request<byte[]> {
        public MessageType type() { return MessageType.READ; }
        public boolean transactional() { return true; }
    }

    /** WRITE {@code <path>|<value|>}: creates missing parents with empty values. */
    record Write(String path, byte[] value) implements Request<Void> {
        public Write {
            value = value.clone();
        }
        public byte[] value() { return value.clone(); }
        public MessageType type() { return MessageType.WRITE; }
        public boolean transactional() { return true; }
        @Override public boolean equals(Object o) {
            return o instanceof Write w && w.path.equals(path) && Arrays.equals(w.value, value);
        }
        @Override public int hashCode() { return path.hashCode() * 31 + Arrays.hashCode(value); }
        @Override public String toString() { return "Write[" + path + ", " + value.length + " bytes]"; }
    }

    /** MKDIR {@code <path>|}: ensures the node exists, leaving existing values alone. */
    record Mkdir(String path) implements Request<Void> {
        public MessageType type() { return MessageType.MKDIR; }
        public boolean transactional() { return true; }
    }

    /** RM {@code <path>|}: removes the node and all its children. */
    record Rm(String path) implements Request<Void> {
        public MessageType type() { return MessageType.RM; }
        public boolean transactional() { return true; }
    }

    /** DIRECTORY {@code <path>|} → {@code <child-leaf-name>|*}. */
    record Directory(String path) implements Request<List<String>> {
        public MessageType type() { return MessageType.DIRECTORY; }
        public boolean transactional() { return true; }
    }

    /** DIRECTORY_PART {@code <path>|<offset>|} → {@code <gencnt>|<child-leaf-name>|*}, for long lists. */
    record DirectoryPart(String path, long offset) implements Request<DirectoryChunk> {
        public DirectoryPart {
            if (offset < 0) {
                throw new IllegalArgumentException("negative offset");
            }
        }
        public MessageType type() { return MessageType.DIRECTORY_PART; }
        public boolean transactional() { return true; }
    }

    /** GET_PERMS {@code <path>|} → {@code <perm-as-string>|+}. */
    record GetPerms(String path) implements Request<Permissions> {
        public MessageType type() { return MessageType.GET_PERMS; }
        public boolean transactional() { return true; }
    }

    /** SET_PERMS {@code <path>|<perm-as-string>|+}. */
    record SetPerms(String path, Permissions permissions) implements Request<Void> {
        public MessageType type() { return MessageType.SET_PERMS; }
        public boolean transactional() { return true; }
    }

    /** WATCH {@code <wpath>|<token>|}: fires once at once, then on every change at or below wpath. */
    record Watch(String path, String token) implements Request<Void> {
        public MessageType type() { return MessageType.WATCH; }
    }

    /** UNWATCH {@code <wpath>|<token>|}. */
    record Unwatch(String path, String token) implements Request<Void> {
        public MessageType type() { return MessageType.UNWATCH; }
    }

    /** RESET_WATCHES: drops all watches and transactions of the connection. */
    record ResetWatches() implements Request<Void> {
        public MessageType type() { return MessageType.RESET_WATCHES; }
    }

    /** TRANSACTION_START {@code |} → {@code <transid>|} (an unsigned 32-bit id, never 0). */
    record TransactionStart() implements Request<Integer> {
        public MessageType type() { return MessageType.TRANSACTION_START; }
    }

    /** TRANSACTION_END {@code T|} commits, {@code F|} discards; commit may fail with EAGAIN. */
    record TransactionEnd(boolean commit) implements Request<Void> {
        public MessageType type() { return MessageType.TRANSACTION_END; }
    }

    /** INTRODUCE {@code <domid>|<mfn>|<evtchn>|}: dom0 tells xenstored about a new domain's ring. */
    record Introduce(int domid, long mfn, int eventChannel) implements Request<Void> {
        public MessageType type() { return MessageType.INTRODUCE; }
    }

    /** RELEASE {@code <domid>|}: xenstored disconnects from the domain. */
    record Release(int domid) implements Request<Void> {
        public MessageType type() { return MessageType.RELEASE; }
    }

    /** RESUME {@code <domid>|}: re-arms @releaseDomain for a domain that was shut down. */
    record Resume(int domid) implements Request<Void> {
        public MessageType type() { return MessageType.RESUME; }
    }

    /** SET_TARGET {@code <domid>|<tdomid>|}: domid (a device model) acts with tdomid's rights. */
    record SetTarget(int domid, int targetDomid) implements Request<Void> {
        public MessageType type() { return MessageType.SET_TARGET; }
    }

    /** GET_DOMAIN_PATH {@code <domid>|} → {@code <path>|}. */
    record GetDomainPath(int domid) implements Request<String> {
        public MessageType type() { return MessageType.GET_DOMAIN_PATH; }
    }

    /** IS_DOMAIN_INTRODUCED {@code <domid>|} → {@code T|} or {@code F|}. */
    record IsDomainIntroduced(int domid) implements Request<Boolean> {
        public MessageType type() { return MessageType.IS_DOMAIN_INTRODUCED; }
    }

    /** CONTROL {@code <command>|[<parameters>|]}: implementation-specific; replies text. */
    record Control(List<String> arguments) implements Request<String> {
        public Control {
            if (arguments.isEmpty()) {
                throw new IllegalArgumentException("CONTROL needs a command");
            }
            arguments = List.copyOf(arguments);
        }
        public MessageType type() { return MessageType.CONTROL; }
    }

    /** GET_FEATURE {@code [<domid>|]} → {@code <value>|}: without a domid, what the server supports. */
    record GetFeature(OptionalInt domid) implements Request<Long> {
        public MessageType type() { return MessageType.GET_FEATURE; }
    }

    /** SET_FEATURE {@code <domid>|<value>|}: only before the domain is introduced. */
    record SetFeature(int domid, long features) implements Request<Void> {
        public MessageType type() { return MessageType.SET_FEATURE; }
    }

    /** GET_QUOTA {@code |} → the space-separated names of the quotas the server enforces. */
    record GetQuotaNames() implements Request<List<String>> {
        public MessageType type() { return MessageType.GET_QUOTA; }
    }

    /** GET_QUOTA {@code [<domid>|]<name>|} → {@code <value>|}: global value without a domid. */
    record GetQuota(OptionalInt domid, String name) implements Request<Long> {
        public MessageType type() { return MessageType.GET_QUOTA; }
    }

    /** SET_QUOTA {@code [<domid>|]<name>|<value>|}: global value without a domid. */
    record SetQuota(OptionalInt domid, String name, long value) implements Request<Void> {
        public MessageType type() { return MessageType.SET_QUOTA; }
    }
}

package io.xenops.xenstore.server;

import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.wire.Access;
import io.xenops.xenstore.wire.DirectoryChunk;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.Paths;
import io.xenops.xenstore.wire.Permissions;
import io.xenops.xenstore.wire.ReplyEncoder;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.RequestDecoder;
import io.xenops.xenstore.wire.WatchEvent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The semantics of docs/misc/xenstore.txt: the tree, permissions, transactions, watches, domains
 * and quotas. Every method runs under the server's lock, one request at a time, as in xenstored.
 */
final class RequestProcessor {

    static final String INTRODUCE_DOMAIN = "@introduceDomain";
    static final String RELEASE_DOMAIN = "@releaseDomain";
    /** XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR (xenstore-ring.txt). */
    static final long SUPPORTED_FEATURES = 3;
    /** DOMID_FIRST_RESERVED: ids from here on are special, never real domains. */
    private static final int DOMID_FIRST_RESERVED = 0x7ff0;

    private final Limits limits;
    private final Store store = new Store();
    private final Quotas quotas;
    private final RequestDecoder decoder = new RequestDecoder();
    private final ReplyEncoder replies = new ReplyEncoder();
    private final List<WatchEntry> watches = new ArrayList<>();
    private final Set<Integer> introduced = new HashSet<>();
    private final Map<Integer, Integer> targets = new HashMap<>();
    private final Map<Integer, Long> features = new HashMap<>();
    private final List<ServerConnection> connections;
    private int nextTransaction = 1;

    private record WatchEntry(ServerConnection conn, String given, String absolute, String token) {
    }

    RequestProcessor(Limits limits, Quotas quotas, List<ServerConnection> connections) {
        this.limits = limits;
        this.quotas = quotas;
        this.connections = connections;
        // The skeleton every Xen host has before the toolstack starts.
        Permissions dom0 = Permissions.owner(0, Access.NONE);
        for (String p : List.of("/local", "/local/domain", "/tool")) {
            create(store, p, new byte[0], dom0);
        }
    }

    // ------------------------------------------------------------------ dispatch

    void handle(ServerConnection conn, Frame frame) {
        Request<?> request;
        try {
            request = decoder.decode(frame);
        } catch (XenStoreErrorException e) {
            conn.send(replies.error(frame, e.code()));
            return;
        }
        try {
            answer(conn, frame, request);
        } catch (XenStoreErrorException e) {
            conn.send(replies.error(frame, e.code()));
        } catch (RuntimeException e) {
            conn.send(replies.error(frame, ErrorCode.EIO));
        }
    }

    private <R> void answer(ServerConnection conn, Frame frame, Request<R> request) {
        R value = execute(conn, frame, request);
        conn.send(replies.reply(request, frame, value));
        if (request instanceof Request.Watch w) {
            // xenstored fires every new watch once, right after acknowledging it.
            conn.send(replies.watchEvent(new WatchEvent(w.path(), w.token())));
        }
    }

    @SuppressWarnings("unchecked")
    private <R> R execute(ServerConnection conn, Frame frame, Request<R> request) {
        NodeView view = store;
        TransactionState tx = null;
        if (request.transactional() && frame.txId() != 0) {
            tx = conn.transactions.get(frame.txId());
            if (tx == null) {
                throw err(ErrorCode.ENOENT, "no transaction " + Integer.toUnsignedString(frame.txId()));
            }
            view = tx;
        }
        Object result = switch (request) {
            case Request.Read r -> readable(conn, view, abs(conn, r.path())).value();
            case Request.Write w -> {
                write(conn, view, tx, abs(conn, w.path()), w.value());
                yield null;
            }
            case Request.Mkdir m -> {
                mkdir(conn, view, tx, abs(conn, m.path()));
                yield null;
            }
            case Request.Rm r -> {
                rm(conn, view, tx, abs(conn, r.path()));
                yield null;
            }
            case Request.Directory d -> {
                List<String> children = readable(conn, view, abs(conn, d.path())).children();
                int bytes = 0;
                for (String c : children) {
                    bytes += c.length() + 1;
                }
                if (bytes > limits.maxPayload()) {
                    // As C xenstored: the client should fall back to DIRECTORY_PART.
                    throw err(ErrorCode.E2BIG, "directory too long for one reply");
                }
                yield children;
            }
            case Request.DirectoryPart d -> directoryPart(readable(conn, view, abs(conn, d.path())), d.offset());
            case Request.GetPerms g -> readable(conn, view, abs(conn, g.path())).permissions();
            case Request.SetPerms s -> {
                setPerms(conn, view, tx, abs(conn, s.path()), s.permissions());
                yield null;
            }
            case Request.Watch w -> {
                watch(conn, w.path(), w.token());
                yield null;
            }
            case Request.Unwatch u -> {
                unwatch(conn, u.path(), u.token());
                yield null;
            }
            case Request.ResetWatches r -> {
                watches.removeIf(e -> e.conn == conn);
                conn.transactions.clear();
                yield null;
            }
            case Request.TransactionStart t -> startTransaction(conn, frame);
            case Request.TransactionEnd e -> {
                endTransaction(conn, frame, e.commit());
                yield null;
            }
            case Request.Introduce i -> {
                privileged(conn);
                introduce(i.domid());
                yield null;
            }
            case Request.Release r -> {
                privileged(conn);
                release(r.domid());
                yield null;
            }
            case Request.Resume r -> {
                privileged(conn);
                requireIntroduced(r.domid());
                yield null;
            }
            case Request.SetTarget s -> {
                privileged(conn);
                requireIntroduced(s.domid());
                requireIntroduced(s.targetDomid());
                targets.put(s.domid(), s.targetDomid());
                yield null;
            }
            case Request.GetDomainPath g -> "/local/domain/" + g.domid();
            case Request.IsDomainIntroduced i -> {
                privileged(conn);
                yield i.domid() == 0 || introduced.contains(i.domid());
            }
            case Request.Control c -> control(conn, c.arguments());
            case Request.GetFeature g -> {
                privileged(conn);
                yield g.domid().isPresent()
                        ? features.getOrDefault(g.domid().getAsInt(), SUPPORTED_FEATURES)
                        : SUPPORTED_FEATURES;
            }
            case Request.SetFeature s -> {
                privileged(conn);
                if ((s.features() & ~SUPPORTED_FEATURES) != 0) {
                    throw err(ErrorCode.EINVAL, "unsupported feature bits");
                }
                if (introduced.contains(s.domid())) {
                    throw err(ErrorCode.EBUSY, "domain already introduced");
                }
                features.put(s.domid(), s.features());
                yield null;
            }
            case Request.GetQuotaNames g -> {
                privileged(conn);
                yield Quotas.NAMES;
            }
            case Request.GetQuota g -> {
                privileged(conn);
                quotaName(g.name());
                yield g.domid().isPresent() ? quotas.forDomain(g.domid().getAsInt(), g.name()) : quotas.global(g.name());
            }
            case Request.SetQuota s -> {
                privileged(conn);
                quotaName(s.name());
                if (s.domid().isPresent()) {
                    quotas.setForDomain(s.domid().getAsInt(), s.name(), s.value());
                } else {
                    quotas.setGlobal(s.name(), s.value());
                }
                yield null;
            }
        };
        return (R) result;
    }

    // ------------------------------------------------------------------ paths and permissions

    /** The absolute form of a request path; relative paths live under the connection's home. */
    private String abs(ServerConnection conn, String path) {
        String problem = Paths.problem(path, limits);
        if (problem != null || path.startsWith("@")) {
            throw err(ErrorCode.EINVAL, problem == null ? "special path used as a node" : problem);
        }
        String a = path.startsWith("/") ? path : conn.home() + "/" + path;
        if (a.length() > limits.maxAbsolutePath()) {
            throw err(ErrorCode.EINVAL, "path too long");
        }
        return a;
    }

    private Access access(ServerConnection conn, Node node) {
        if (conn.privileged) {
            return Access.BOTH;
        }
        Permissions p = node.permissions();
        Integer target = targets.get(conn.domid);
        if (conn.domid == p.owner() || (target != null && target == p.owner())) {
            return Access.BOTH;
        }
        Access mine = p.accessFor(conn.domid);
        if (target != null && mine == p.ownerEntry().access()) {
            return p.accessFor(target);
        }
        return mine;
    }

    /** The node, if it exists and the connection may read it. */
    private Node readable(ServerConnection conn, NodeView view, String path) {
        Node n = view.get(path);
        if (n == null) {
            throw err(ErrorCode.ENOENT, path);
        }
        if (!access(conn, n).canRead()) {
            throw err(ErrorCode.EACCES, path);
        }
        return n;
    }

    private void writable(ServerConnection conn, Node n, String path) {
        if (!access(conn, n).canWrite()) {
            throw err(ErrorCode.EACCES, path);
        }
    }

    private static void privileged(ServerConnection conn) {
        if (!conn.privileged) {
            throw err(ErrorCode.EACCES, "dom0 only");
        }
    }

    // ------------------------------------------------------------------ node operations

    private void write(ServerConnection conn, NodeView view, TransactionState tx, String path, byte[] value) {
        if (!conn.privileged && value.length > quotas.forDomain(conn.domid, Quotas.NODE_SIZE)) {
            throw err(ErrorCode.E2BIG, "value over the node-size quota");
        }
        Node n = view.get(path);
        Node written;
        if (n != null) {
            writable(conn, n, path);
            written = n.withValue(value);
            view.put(path, written);
        } else {
            written = createWithParents(conn, view, path, value);
        }
        changed(tx, path, false, written);
    }

    private void mkdir(ServerConnection conn, NodeView view, TransactionState tx, String path) {
        if (view.get(path) != null) {
            return;
        }
        Node created = createWithParents(conn, view, path, new byte[0]);
        changed(tx, path, false, created);
    }

    /**
     * Creates {@code path} and any missing parents. The nearest existing ancestor must be writable;
     * new nodes copy their parent's permissions, and a domain becomes the owner of what it creates.
     */
    private Node createWithParents(ServerConnection conn, NodeView view, String path, byte[] value) {
        List<String> missing = new ArrayList<>();
        String p = path;
        Node ancestor;
        while ((ancestor = view.get(p)) == null) {
            missing.add(p);
            p = Paths.parent(p);
        }
        writable(conn, ancestor, p);
        if (!conn.privileged) {
            long max = quotas.forDomain(conn.domid, Quotas.NODES);
            if (view.ownedBy(conn.domid) + missing.size() > max) {
                throw err(ErrorCode.ENOSPC, "nodes quota of domain " + conn.domid);
            }
        }
        Permissions perms = conn.privileged ? ancestor.permissions() : ancestor.permissions().withOwner(conn.domid);
        Node last = null;
        for (int i = missing.size() - 1; i >= 0; i--) {
            String m = missing.get(i);
            last = create(view, m, i == 0 ? value : new byte[0], perms);
        }
        return last;
    }

    /** Adds a node under an existing parent. */
    private static Node create(NodeView view, String path, byte[] value, Permissions perms) {
        String parent = Paths.parent(path);
        view.put(parent, view.get(parent).withChild(Paths.name(path)));
        Node n = new Node(value, perms, List.of(), 0);
        view.put(path, n);
        return n;
    }

    private void rm(ServerConnection conn, NodeView view, TransactionState tx, String path) {
        if (path.equals("/")) {
            throw err(ErrorCode.EINVAL, "cannot remove the root");
        }
        Node n = view.get(path);
        if (n == null) {
            // Not an error, unless the parent is missing too (xenstore.txt).
            if (view.get(Paths.parent(path)) == null) {
                throw err(ErrorCode.ENOENT, path);
            }
            return;
        }
        writable(conn, n, path);
        removeTree(view, path, n);
        String parent = Paths.parent(path);
        view.put(parent, view.get(parent).withoutChild(Paths.name(path)));
        changed(tx, path, true, n);
    }

    private static void removeTree(NodeView view, String path, Node n) {
        for (String c : n.children()) {
            String cp = Paths.join(path, c);
            Node cn = view.get(cp);
            if (cn != null) {
                removeTree(view, cp, cn);
            }
        }
        view.remove(path);
    }

    private void setPerms(ServerConnection conn, NodeView view, TransactionState tx, String path, Permissions perms) {
        Node n = view.get(path);
        if (n == null) {
            throw err(ErrorCode.ENOENT, path);
        }
        if (!conn.privileged) {
            Integer target = targets.get(conn.domid);
            int owner = n.permissions().owner();
            if (owner != conn.domid && (target == null || target != owner)) {
                throw err(ErrorCode.EACCES, "only the owner sets permissions");
            }
            if (perms.entries().size() > quotas.forDomain(conn.domid, Quotas.PERMISSIONS)) {
                throw err(ErrorCode.ENOSPC, "permissions quota");
            }
        }
        Node updated = n.withPermissions(perms);
        view.put(path, updated);
        changed(tx, path, false, updated);
    }

    private static DirectoryChunk directoryPart(Node n, long offset) {
        List<String> children = n.children();
        int max = 0;
        long pos = 0;
        int start = -1;
        for (int i = 0; i < children.size(); i++) {
            if (pos == offset) {
                start = i;
                break;
            }
            pos += children.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        }
        if (start < 0) {
            if (offset >= pos) {
                return new DirectoryChunk(n.generation(), List.of(), true);
            }
            throw err(ErrorCode.EINVAL, "offset inside a child name");
        }
        // Room left after "<gencnt>\0" and the final "\0" that marks the end.
        int room = io.xenops.xenstore.wire.Limits.XENSTORE_PAYLOAD_MAX - (Long.toString(n.generation()).length() + 1) - 1;
        List<String> out = new ArrayList<>();
        int i = start;
        for (; i < children.size(); i++) {
            int len = children.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
            if (max + len > room) {
                break;
            }
            max += len;
            out.add(children.get(i));
        }
        return new DirectoryChunk(n.generation(), out, i == children.size());
    }

    // ------------------------------------------------------------------ transactions

    private int startTransaction(ServerConnection conn, Frame frame) {
        if (frame.txId() != 0) {
            throw err(ErrorCode.EBUSY, "transactions do not nest");
        }
        if (!conn.privileged && conn.transactions.size() >= quotas.forDomain(conn.domid, Quotas.TRANSACTIONS)) {
            throw err(ErrorCode.ENOSPC, "transactions quota");
        }
        int id;
        do {
            id = nextTransaction++;
        } while (id == 0 || conn.transactions.containsKey(id));
        conn.transactions.put(id, new TransactionState(id, store));
        return id;
    }

    private void endTransaction(ServerConnection conn, Frame frame, boolean commit) {
        TransactionState tx = conn.transactions.remove(frame.txId());
        if (tx == null) {
            throw err(ErrorCode.ENOENT, "no transaction " + Integer.toUnsignedString(frame.txId()));
        }
        if (!commit) {
            return;
        }
        if (!tx.canCommit()) {
            throw err(ErrorCode.EAGAIN, "conflict");
        }
        for (TransactionState.PendingEvent e : tx.commit()) {
            fire(e.path(), e.recursive(), e.node());
        }
    }

    /** A change fires watches now, or at commit when made inside a transaction. */
    private void changed(TransactionState tx, String path, boolean recursive, Node node) {
        if (tx != null) {
            tx.addEvent(path, recursive, node);
        } else {
            fire(path, recursive, node);
        }
    }

    // ------------------------------------------------------------------ watches

    private void watch(ServerConnection conn, String path, String token) {
        String absolute;
        if (path.startsWith("@")) {
            absolute = path;
        } else {
            absolute = abs(conn, path);
        }
        for (WatchEntry e : watches) {
            if (e.conn == conn && e.given.equals(path) && e.token.equals(token)) {
                throw err(ErrorCode.EEXIST, "watch exists");
            }
        }
        if (!conn.privileged) {
            long mine = watches.stream().filter(e -> e.conn.domid == conn.domid).count();
            if (mine >= quotas.forDomain(conn.domid, Quotas.WATCHES)) {
                throw err(ErrorCode.E2BIG, "watches quota");
            }
        }
        watches.add(new WatchEntry(conn, path, absolute, token));
    }

    private void unwatch(ServerConnection conn, String path, String token) {
        boolean removed = watches.removeIf(e -> e.conn == conn && e.given.equals(path) && e.token.equals(token));
        if (!removed) {
            throw err(ErrorCode.ENOENT, "no such watch");
        }
    }

    /**
     * Sends events for a change at {@code path}: to every watch at or above it, and, for a removal,
     * to every watch below it (with the watch's own path, as xenstore.txt specifies). A connection
     * hears only about nodes it may read.
     */
    private void fire(String path, boolean recursive, Node node) {
        for (WatchEntry w : watches) {
            if (w.absolute.startsWith("@")) {
                continue;
            }
            String eventPath;
            if (Paths.isChildOf(path, w.absolute)) {
                eventPath = path;
            } else if (recursive && Paths.isChildOf(w.absolute, path)) {
                eventPath = w.absolute;
            } else {
                continue;
            }
            if (!w.conn.privileged && !access(w.conn, node).canRead()) {
                continue;
            }
            w.conn.send(replies.watchEvent(new WatchEvent(relativeTo(w, eventPath), w.token)));
        }
    }

    /** Special events (@introduceDomain, @releaseDomain) go to privileged watchers of that name. */
    private void fireSpecial(String special) {
        for (WatchEntry w : watches) {
            if (w.absolute.equals(special) && w.conn.privileged) {
                w.conn.send(replies.watchEvent(new WatchEvent(special, w.token)));
            }
        }
    }

    /** Events of a watch set with a relative path are relative too. */
    private static String relativeTo(WatchEntry w, String path) {
        if (w.given.startsWith("/")) {
            return path;
        }
        String home = w.conn.home() + "/";
        return path.startsWith(home) ? path.substring(home.length()) : path;
    }

    // ------------------------------------------------------------------ domains

    void introduce(int domid) {
        if (domid == 0 || domid >= DOMID_FIRST_RESERVED) {
            throw err(ErrorCode.EINVAL, "not a real domain id: " + domid);
        }
        if (introduced.add(domid)) {
            fireSpecial(INTRODUCE_DOMAIN);
        }
    }

    void release(int domid) {
        if (domid == 0) {
            throw err(ErrorCode.EINVAL, "dom0 cannot be released");
        }
        requireIntroduced(domid);
        introduced.remove(domid);
        targets.remove(domid);
        features.remove(domid);
        quotas.forget(domid);
        // Whatever the domain had open goes with it, as xenstored tears down its ring.
        for (ServerConnection c : List.copyOf(connections)) {
            if (!c.privileged && c.domid == domid) {
                drop(c);
                c.close();
            }
        }
        fireSpecial(RELEASE_DOMAIN);
    }

    private void requireIntroduced(int domid) {
        if (domid != 0 && !introduced.contains(domid)) {
            throw err(ErrorCode.ENOENT, "domain " + domid + " not introduced");
        }
    }

    /** Forgets a connection's watches and transactions when it goes away. */
    void drop(ServerConnection conn) {
        watches.removeIf(e -> e.conn == conn);
        conn.transactions.clear();
        connections.remove(conn);
    }

    private String control(ServerConnection conn, List<String> args) {
        privileged(conn);
        return switch (args.get(0)) {
            case "help" -> "check\nlog\nprint\nhelp\n";
            case "check" -> "OK";
            case "log" -> "OK";
            case "print" -> "OK";
            default -> throw err(ErrorCode.EINVAL, "unknown control command " + args.get(0));
        };
    }

    private static void quotaName(String name) {
        if (!Quotas.known(name)) {
            throw err(ErrorCode.EINVAL, "unknown quota " + name);
        }
    }

    /** Nodes in the committed tree, for tests. */
    int nodeCount() {
        return store.size();
    }

    private static XenStoreErrorException err(ErrorCode code, String why) {
        return XenStoreErrorException.of(code, why);
    }
}

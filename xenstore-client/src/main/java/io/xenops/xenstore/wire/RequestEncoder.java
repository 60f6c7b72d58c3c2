package io.xenops.xenstore.wire;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns requests into payloads and frames. It checks only what the wire itself forbids (payload
 * size, NULs inside strings); path syntax is the caller's business so that a test can still send a
 * bad path to a server on purpose.
 */
public final class RequestEncoder {

    private final FrameEncoder frames;

    public RequestEncoder(Limits limits) {
        this.frames = new FrameEncoder(limits);
    }

    /** The frame for a request, with the given req_id and tx_id (tx_id 0 outside transactions). */
    public Frame frame(Request<?> request, int reqId, int txId) {
        Frame f = new Frame(request.type(), reqId, txId, payload(request));
        frames.checkSize(f);
        return f;
    }

    /** Header and payload ready to write. */
    public byte[] encode(Request<?> request, int reqId, int txId) {
        return frames.encode(frame(request, reqId, txId));
    }

    public byte[] payload(Request<?> request) {
        return switch (request) {
            case Request.Read r -> Payloads.nulTerminated(r.path());
            case Request.Write w -> {
                byte[] p = Payloads.bytes(w.path());
                byte[] v = w.value();
                byte[] out = new byte[p.length + 1 + v.length];
                System.arraycopy(p, 0, out, 0, p.length);
                System.arraycopy(v, 0, out, p.length + 1, v.length);
                yield out;
            }
            case Request.Mkdir m -> Payloads.nulTerminated(m.path());
            case Request.Rm r -> Payloads.nulTerminated(r.path());
            case Request.Directory d -> Payloads.nulTerminated(d.path());
            case Request.DirectoryPart d -> Payloads.nulTerminated(d.path(), Long.toString(d.offset()));
            case Request.GetPerms g -> Payloads.nulTerminated(g.path());
            case Request.SetPerms s -> {
                List<String> l = new ArrayList<>();
                l.add(s.path());
                l.addAll(s.permissions().format());
                yield Payloads.nulTerminated(l);
            }
            case Request.Watch w -> Payloads.nulTerminated(w.path(), w.token());
            case Request.Unwatch u -> Payloads.nulTerminated(u.path(), u.token());
            // libxenstore sends an empty string for these argument-less requests.
            case Request.ResetWatches r -> Payloads.nulTerminated("");
            case Request.TransactionStart t -> Payloads.nulTerminated("");
            case Request.TransactionEnd e -> Payloads.nulTerminated(e.commit() ? "T" : "F");
            case Request.Introduce i -> Payloads.nulTerminated(Integer.toString(i.domid()),
                    Long.toString(i.mfn()), Integer.toString(i.eventChannel()));
            case Request.Release r -> domid(r.domid());
            case Request.Resume r -> domid(r.domid());
            case Request.SetTarget s -> Payloads.nulTerminated(Integer.toString(s.domid()),
                    Integer.toString(s.targetDomid()));
            case Request.GetDomainPath g -> domid(g.domid());
            case Request.IsDomainIntroduced i -> domid(i.domid());
            case Request.Control c -> Payloads.nulTerminated(c.arguments());
            // No arguments means no strings at all: xenstored counts strings, and "\0" would be one.
            case Request.GetFeature g -> g.domid().isPresent() ? domid(g.domid().getAsInt()) : new byte[0];
            case Request.SetFeature s -> Payloads.nulTerminated(Integer.toString(s.domid()),
                    Long.toString(s.features()));
            case Request.GetQuotaNames g -> new byte[0];
            case Request.GetQuota g -> {
                List<String> l = new ArrayList<>();
                g.domid().ifPresent(d -> l.add(Integer.toString(d)));
                l.add(g.name());
                yield Payloads.nulTerminated(l);
            }
            case Request.SetQuota s -> {
                List<String> l = new ArrayList<>();
                s.domid().ifPresent(d -> l.add(Integer.toString(d)));
                l.add(s.name());
                l.add(Long.toString(s.value()));
                yield Payloads.nulTerminated(l);
            }
        };
    }

    private static byte[] domid(int domid) {
        return Payloads.nulTerminated(Integer.toString(domid));
    }
}

package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ErrorCode;

import java.io.ByteArrayOutputStream;
import java.util.List;

/** Builds reply payloads on the server side, in the formats of docs/misc/xenstore.txt. */
public final class ReplyEncoder {

    public <R> Frame reply(Request<R> request, Frame to, R value) {
        return new Frame(request.type(), to.reqId(), to.txId(), payload(request, value));
    }

    public Frame error(Frame to, ErrorCode code) {
        return error(to, code == ErrorCode.UNKNOWN ? ErrorCode.EINVAL.name() : code.name());
    }

    public Frame error(Frame to, String errnoName) {
        return new Frame(MessageType.ERROR, to.reqId(), to.txId(), Payloads.nulTerminated(errnoName));
    }

    /** WATCH_EVENT frames carry req_id and tx_id 0. */
    public Frame watchEvent(WatchEvent e) {
        return new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated(e.path(), e.token()));
    }

    public <R> byte[] payload(Request<R> request, R value) {
        return switch (request) {
            case Request.Read r -> ((byte[]) value).clone();
            case Request.Directory d -> Payloads.nulTerminated(names(value));
            case Request.DirectoryPart d -> directoryPart((DirectoryChunk) value);
            case Request.GetPerms g -> Payloads.nulTerminated(((Permissions) value).format());
            case Request.TransactionStart t -> Payloads.nulTerminated(Integer.toUnsignedString((Integer) value));
            case Request.GetDomainPath g -> Payloads.nulTerminated((String) value);
            case Request.IsDomainIntroduced i -> Payloads.nulTerminated((Boolean) value ? "T" : "F");
            case Request.Control c -> Payloads.nulTerminated((String) value);
            case Request.GetFeature g -> Payloads.nulTerminated(Long.toString((Long) value));
            case Request.GetQuota g -> Payloads.nulTerminated(Long.toString((Long) value));
            case Request.GetQuotaNames g -> Payloads.nulTerminated(String.join(" ", names(value)));
            case Request.Write w -> ok();
            case Request.Mkdir m -> ok();
            case Request.Rm r -> ok();
            case Request.SetPerms s -> ok();
            case Request.Watch w -> ok();
            case Request.Unwatch u -> ok();
            case Request.ResetWatches r -> ok();
            case Request.TransactionEnd e -> ok();
            case Request.Introduce i -> ok();
            case Request.Release r -> ok();
            case Request.Resume r -> ok();
            case Request.SetTarget s -> ok();
            case Request.SetFeature s -> ok();
            case Request.SetQuota s -> ok();
        };
    }

    /** {@code <gencnt>|<child>|*}, plus an empty string when the list ends here (as C xenstored does). */
    private static byte[] directoryPart(DirectoryChunk c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Payloads.nulTerminated(Long.toString(c.generation())));
        out.writeBytes(Payloads.nulTerminated(c.children()));
        if (c.last()) {
            out.write(0);
        }
        return out.toByteArray();
    }

    private static byte[] ok() {
        return Payloads.nulTerminated("OK");
    }

    @SuppressWarnings("unchecked")
    private static List<String> names(Object value) {
        return (List<String>) value;
    }
}

package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.error.XenStoreErrorException;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses replies on the client side. An ERROR reply becomes the matching typed exception; a reply
 * whose type or payload does not fit the request is a {@link ProtocolException}.
 */
public final class ReplyDecoder {

    public <R> R decode(Request<R> request, Frame reply) {
        return decode(request, reply, reply.txId());
    }

    /**
     * Decodes the reply to {@code request}, sent in transaction {@code txId} (0 for none): the
     * transaction tells a lost transaction (NoSuchTransactionException) from other errors.
     */
    public <R> R decode(Request<R> request, Frame reply, int txId) {
        if (reply.is(MessageType.ERROR)) {
            throw XenStoreErrorException.of(Payloads.first(reply.payload()), describe(request), txId,
                    request instanceof Request.TransactionEnd);
        }
        if (reply.type() != request.type().code()) {
            throw new ProtocolException("reply of type " + reply.type() + " to a " + request.type() + " request");
        }
        return value(request, reply.payload());
    }

    @SuppressWarnings("unchecked")
    public <R> R value(Request<R> request, byte[] p) {
        Object v = switch (request) {
            case Request.Read r -> p;
            case Request.Directory d -> names(p);
            case Request.DirectoryPart d -> directoryPart(p);
            case Request.GetPerms g -> {
                try {
                    yield Permissions.parse(names(p));
                } catch (IllegalArgumentException e) {
                    throw new ProtocolException("malformed GET_PERMS reply: " + e.getMessage());
                }
            }
            case Request.TransactionStart t -> {
                long id = Payloads.parseUnsigned(Payloads.first(p), 0xffffffffL, "transaction id");
                if (id == 0) {
                    throw new ProtocolException("transaction id 0");
                }
                yield (int) id;
            }
            case Request.GetDomainPath g -> Payloads.first(p);
            case Request.IsDomainIntroduced i -> switch (Payloads.first(p)) {
                case "T" -> Boolean.TRUE;
                case "F" -> Boolean.FALSE;
                default -> throw new ProtocolException("IS_DOMAIN_INTRODUCED reply is neither T nor F");
            };
            case Request.Control c -> text(p);
            case Request.GetFeature g -> Payloads.parseUnsigned(Payloads.first(p), 0xffffffffL, "feature bits");
            case Request.GetQuota g -> Payloads.parseUnsigned(Payloads.first(p), 0xffffffffL, "quota value");
            case Request.GetQuotaNames g -> {
                List<String> out = new ArrayList<>();
                for (String s : Payloads.first(p).split(" ")) {
                    if (!s.isEmpty()) {
                        out.add(s);
                    }
                }
                yield List.copyOf(out);
            }
            // Acknowledgements: like libxenstore, any payload (normally "OK") means success.
            case Request.Write w -> null;
            case Request.Mkdir m -> null;
            case Request.Rm r -> null;
            case Request.SetPerms s -> null;
            case Request.Watch w -> null;
            case Request.Unwatch u -> null;
            case Request.ResetWatches r -> null;
            case Request.TransactionEnd e -> null;
            case Request.Introduce i -> null;
            case Request.Release r -> null;
            case Request.Resume r -> null;
            case Request.SetTarget s -> null;
            case Request.SetFeature s -> null;
            case Request.SetQuota s -> null;
        };
        return (R) v;
    }

    /** Parses a WATCH_EVENT payload: at least a path and a token. */
    public WatchEvent watchEvent(Frame f) {
        List<String> s = Payloads.split(f.payload());
        if (s.size() < 2) {
            throw new ProtocolException("WATCH_EVENT without path and token");
        }
        return new WatchEvent(s.get(0), s.get(1));
    }

    /** Children names; empty strings dropped, since some servers send "\0" for an empty list. */
    private static List<String> names(byte[] p) {
        List<String> out = new ArrayList<>();
        for (String s : Payloads.split(p)) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    private static DirectoryChunk directoryPart(byte[] p) {
        int nul = Payloads.indexOf(p, (byte) 0, 0);
        if (nul < 0) {
            throw new ProtocolException("DIRECTORY_PART reply without a generation count");
        }
        long gen = Payloads.parseUnsigned(Payloads.string(p, 0, nul), Long.MAX_VALUE, "generation count");
        List<String> children = new ArrayList<>();
        boolean last = false;
        int start = nul + 1;
        for (int i = start; i < p.length; i++) {
            if (p[i] == 0) {
                if (i == start) {
                    last = true;
                    break;
                }
                children.add(Payloads.string(p, start, i));
                start = i + 1;
            }
        }
        return new DirectoryChunk(gen, children, last);
    }

    private static String text(byte[] p) {
        int end = p.length;
        while (end > 0 && p[end - 1] == 0) {
            end--;
        }
        return Payloads.string(p, 0, end);
    }

    private static String describe(Request<?> r) {
        return switch (r) {
            case Request.Read x -> "READ " + x.path();
            case Request.Write x -> "WRITE " + x.path();
            case Request.Mkdir x -> "MKDIR " + x.path();
            case Request.Rm x -> "RM " + x.path();
            case Request.Directory x -> "DIRECTORY " + x.path();
            case Request.DirectoryPart x -> "DIRECTORY_PART " + x.path();
            case Request.GetPerms x -> "GET_PERMS " + x.path();
            case Request.SetPerms x -> "SET_PERMS " + x.path();
            case Request.Watch x -> "WATCH " + x.path();
            case Request.Unwatch x -> "UNWATCH " + x.path();
            default -> r.type().name();
        };
    }
}

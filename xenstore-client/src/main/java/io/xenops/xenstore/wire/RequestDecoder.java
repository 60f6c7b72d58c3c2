package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.XenStoreErrorException;

import java.util.List;
import java.util.OptionalInt;

/**
 * Parses request frames on the server side. Anything malformed is an EINVAL error for the sender,
 * as xenstored answers it, not a reason to drop the connection.
 */
public final class RequestDecoder {

    public Request<?> decode(Frame f) {
        MessageType type = MessageType.of(f.type())
                .orElseThrow(() -> einval("unknown message type " + Integer.toUnsignedString(f.type())));
        byte[] p = f.payload();
        return switch (type) {
            case READ -> new Request.Read(path(p));
            case WRITE -> {
                int nul = Payloads.indexOf(p, (byte) 0, 0);
                if (nul < 0) {
                    throw einval("WRITE without a NUL after the path");
                }
                byte[] value = new byte[p.length - nul - 1];
                System.arraycopy(p, nul + 1, value, 0, value.length);
                yield new Request.Write(Payloads.string(p, 0, nul), value);
            }
            case MKDIR -> new Request.Mkdir(path(p));
            case RM -> new Request.Rm(path(p));
            case DIRECTORY -> new Request.Directory(path(p));
            case DIRECTORY_PART -> {
                List<String> s = strings(p, 2, 2);
                yield new Request.DirectoryPart(s.get(0), number(s.get(1), Long.MAX_VALUE));
            }
            case GET_PERMS -> new Request.GetPerms(path(p));
            case SET_PERMS -> {
                List<String> s = Payloads.split(p);
                if (s.size() < 2) {
                    throw einval("SET_PERMS needs a path and at least one permission");
                }
                try {
                    yield new Request.SetPerms(s.get(0), Permissions.parse(s.subList(1, s.size())));
                } catch (IllegalArgumentException e) {
                    throw einval(e.getMessage());
                }
            }
            case WATCH -> {
                List<String> s = strings(p, 2, 3);
                yield new Request.Watch(s.get(0), s.get(1));
            }
            case UNWATCH -> {
                List<String> s = strings(p, 2, 3);
                yield new Request.Unwatch(s.get(0), s.get(1));
            }
            case RESET_WATCHES -> new Request.ResetWatches();
            case TRANSACTION_START -> new Request.TransactionStart();
            case TRANSACTION_END -> {
                String s = Payloads.first(p);
                if (s.equals("T")) {
                    yield new Request.TransactionEnd(true);
                } else if (s.equals("F")) {
                    yield new Request.TransactionEnd(false);
                }
                throw einval("TRANSACTION_END wants T or F");
            }
            case INTRODUCE -> {
                List<String> s = strings(p, 3, 4);
                yield new Request.Introduce(domid(s.get(0)), signedNumber(s.get(1)),
                        (int) number(s.get(2), Integer.MAX_VALUE));
            }
            case RELEASE -> new Request.Release(domid(Payloads.first(p)));
            case RESUME -> new Request.Resume(domid(Payloads.first(p)));
            case SET_TARGET -> {
                List<String> s = strings(p, 2, 2);
                yield new Request.SetTarget(domid(s.get(0)), domid(s.get(1)));
            }
            case GET_DOMAIN_PATH -> new Request.GetDomainPath(domid(Payloads.first(p)));
            case IS_DOMAIN_INTRODUCED -> new Request.IsDomainIntroduced(domid(Payloads.first(p)));
            case CONTROL -> {
                List<String> s = Payloads.split(p);
                if (s.isEmpty() || s.get(0).isEmpty()) {
                    throw einval("CONTROL without a command");
                }
                yield new Request.Control(s);
            }
            case GET_FEATURE -> {
                List<String> s = nonEmpty(p);
                if (s.size() > 1) {
                    throw einval("GET_FEATURE takes at most a domid");
                }
                yield new Request.GetFeature(s.isEmpty() ? OptionalInt.empty() : OptionalInt.of(domid(s.get(0))));
            }
            case SET_FEATURE -> {
                List<String> s = strings(p, 2, 2);
                yield new Request.SetFeature(domid(s.get(0)), number(s.get(1), 0xffffffffL));
            }
            case GET_QUOTA -> {
                List<String> s = nonEmpty(p);
                yield switch (s.size()) {
                    case 0 -> new Request.GetQuotaNames();
                    case 1 -> new Request.GetQuota(OptionalInt.empty(), s.get(0));
                    case 2 -> new Request.GetQuota(OptionalInt.of(domid(s.get(0))), s.get(1));
                    default -> throw einval("GET_QUOTA takes at most a domid and a name");
                };
            }
            case SET_QUOTA -> {
                List<String> s = nonEmpty(p);
                yield switch (s.size()) {
                    case 2 -> new Request.SetQuota(OptionalInt.empty(), s.get(0), number(s.get(1), 0xffffffffL));
                    case 3 -> new Request.SetQuota(OptionalInt.of(domid(s.get(0))), s.get(1),
                            number(s.get(2), 0xffffffffL));
                    default -> throw einval("SET_QUOTA takes [domid] name value");
                };
            }
            case WATCH_EVENT, ERROR -> throw einval(type + " is not a request");
        };
    }

    private static String path(byte[] p) {
        return Payloads.first(p);
    }

    private static List<String> strings(byte[] p, int min, int max) {
        List<String> s = Payloads.split(p);
        if (s.size() < min || s.size() > max) {
            throw einval("expected " + min + (min == max ? "" : " to " + max) + " strings, got " + s.size());
        }
        return s;
    }

    /** The strings of an argument list where a lone empty string means "no arguments". */
    private static List<String> nonEmpty(byte[] p) {
        List<String> s = Payloads.split(p);
        return s.size() == 1 && s.get(0).isEmpty() ? List.of() : s;
    }

    private static int domid(String s) {
        return (int) number(s, 0xffff);
    }

    private static long number(String s, long max) {
        try {
            return Payloads.parseUnsigned(s, max, "number");
        } catch (RuntimeException e) {
            throw einval(e.getMessage());
        }
    }

    /** INTRODUCE sends the mfn in signed decimal (xenstore.txt notes the oddity). */
    private static long signedNumber(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw einval("malformed number '" + s + "'");
        }
    }

    private static XenStoreErrorException einval(String why) {
        return XenStoreErrorException.of(ErrorCode.EINVAL, why);
    }
}

package io.xenops.ctl.cmd;

import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Task;

import java.nio.file.Path;
import java.util.Locale;

import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

@Command(name = "image", description = "Manage the daemon's image store: list, inspect, import, pull, push, remove, gc.",
        subcommands = {ImageCommand.Ls.class, ImageCommand.Inspect.class, ImageCommand.Import.class,
                ImageCommand.Pull.class, ImageCommand.Push.class, ImageCommand.Rm.class, ImageCommand.Gc.class})
public final class ImageCommand extends GroupCommand {
    @Command(name = "ls", description = "List the images this daemon can spawn (same as: xenopsctl images).")
    public static final class Ls extends DaemonCommand {
        @Override
        void run() {
            renderer().images(api().listImages());
        }
    }

    @Command(name = "inspect", description = "Show one image: manifest, digest, size and provenance.")
    public static final class Inspect extends DaemonCommand {
        @Parameters(paramLabel = "NAME", description = "Image name, optionally NAME:TAG.")
        String name;

        @Override
        void run() {
            renderer().image(api().getImage(nonBlank("NAME", name)));
        }
    }

    @Command(name = "import", description = {"Import an image from a kernel ELF and its manifest.",
            "The files are read by the daemon, so they must be on the daemon's host; relative paths are "
                    + "made absolute against this shell's directory."})
    public static final class Import extends DaemonCommand {
        @Option(names = "--kernel", paramLabel = "ELF", required = true, description = "The unikernel ELF.")
        Path kernel;

        @Option(names = "--manifest", paramLabel = "JSON", required = true, description = "The image manifest.")
        Path manifest;

        @Override
        void run() {
            renderer().imported(api().importImage(absolute(kernel), absolute(manifest)));
        }

        private static String absolute(Path p) {
            return p.toAbsolutePath().normalize().toString();
        }
    }

    @Command(name = "pull", description = {"Pull an image from an OCI registry and wait for it.",
            "Progress goes to stderr; Ctrl-C cancels the pull on the daemon."})
    public static final class Pull extends DaemonCommand {
        @Parameters(paramLabel = "REFERENCE", description = "registry/repository:tag, e.g. localhost:5000/hello:1.0.")
        String reference;

        @Option(names = "--name", paramLabel = "NAME[:TAG]", description = "Store it under this name instead of the manifest's.")
        String name;

        @Override
        void run() {
            String ref = nonBlank("REFERENCE", reference);
            Fetched<Task> started = api().pullImage(ref, name);
            renderer().taskDone(follow(started, "pulling " + ref));
        }
    }

    @Command(name = "push", description = {"Push an image to an OCI registry and wait for it.",
            "Progress goes to stderr."})
    public static final class Push extends DaemonCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Local image name, optionally NAME:TAG.")
        String name;

        @Parameters(index = "1", paramLabel = "REFERENCE", description = "registry/repository:tag to push to.")
        String reference;

        @Override
        void run() {
            String local = nonBlank("NAME", name);
            String ref = nonBlank("REFERENCE", reference);
            Fetched<Task> started = api().pushImage(local, ref);
            renderer().taskDone(follow(started, "pushing " + local));
        }
    }

    @Command(name = "rm", description = {"Remove an image; its blobs go at the next gc.",
            "Refused (409) while a pool or a VM uses it."})
    public static final class Rm extends DaemonCommand {
        @Parameters(paramLabel = "NAME", description = "Image name, optionally NAME:TAG.")
        String name;

        @Override
        void run() {
            String n = nonBlank("NAME", name);
            api().deleteImage(n);
            renderer().imageRemoved(n);
        }
    }

    @Command(name = "gc", description = "Evict unused, least recently used images until the store fits the budget.")
    public static final class Gc extends DaemonCommand {
        @Option(names = "--budget", paramLabel = "BYTES", required = true, converter = ByteSize.class,
                description = "Store size to fit in: bytes, or with a binary suffix K, M, G, T (e.g. 512M).")
        long budget;

        @Override
        void run() {
            renderer().gc(api().gcImages(budget));
        }
    }

    /** "512M" -> 536870912; sizes of images are binary units everywhere else in the output too. */
    public static final class ByteSize implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.strip().toUpperCase(Locale.ROOT);
            int shift = 0;
            if (v.endsWith("IB")) {
                v = v.substring(0, v.length() - 2);
            } else if (v.endsWith("B") && v.length() > 1 && !Character.isDigit(v.charAt(v.length() - 2))) {
                v = v.substring(0, v.length() - 1);
            }
            if (!v.isEmpty()) {
                int unit = "KMGT".indexOf(v.charAt(v.length() - 1));
                if (unit >= 0) {
                    shift = 10 * (unit + 1);
                    v = v.substring(0, v.length() - 1);
                }
            }
            try {
                long n = Long.parseLong(v);
                if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
                    throw new TypeConversionException("'" + value + "' is not a size in bytes");
                }
                return n << shift;
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a size in bytes (e.g. 1073741824 or 1G)");
            }
        }
    }
}

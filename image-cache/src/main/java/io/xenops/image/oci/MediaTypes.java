package io.xenops.image.oci;

/** How a xenops image looks in an OCI registry: an artifact with our config and one kernel layer. */
public final class MediaTypes {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /** artifactType of the manifest, so registries and tools can tell our artifacts apart. */
    public static final String ARTIFACT = "application/vnd.xenops.image.v1";
    /** The config blob: the image manifest JSON (api-spec/schemas/image-manifest.schema.json). */
    public static final String CONFIG = "application/vnd.xenops.image.config.v1+json";
    /** The one layer: the kernel ELF, uncompressed. */
    public static final String KERNEL = "application/vnd.xenops.kernel.v1+elf";

    private MediaTypes() { }
}

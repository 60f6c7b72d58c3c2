package io.xenops.image;

/** How a kernel can be started; found in its ELF notes. */
public enum BootMode { PVH, PV }

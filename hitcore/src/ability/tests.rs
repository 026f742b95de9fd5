// The decision tables of section 4.3, one case per cell; filled by the
// ability work.

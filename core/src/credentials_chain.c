/*
 * credentials_chain.c - the default credential chain: the local providers
 * (credentials.c) and the HTTP-based ones (credentials_remote.c) in
 * botocore's order, resolved for one profile.
 */
#include "credentials_internal.h"

/*
 * The sources of the default chain, in botocore's order (its "custom-process"
 * sits between the two files). Explicit keys are handled by the client.
 */
typedef int (*source_new_fn)(acmpca_credentials_provider **out,
                             const acmpca_credentials_options *opts);

static int environment_new(acmpca_credentials_provider **out,
                           const acmpca_credentials_options *opts)
{
    (void)opts;
    return acmpca_credentials_provider_environment(out);
}

static int credentials_file_source_new(acmpca_credentials_provider **out,
                                       const acmpca_credentials_options *opts)
{
    return acmpca__file_provider_new(out, opts->profile, 0);
}

static int config_file_source_new(acmpca_credentials_provider **out,
                                  const acmpca_credentials_options *opts)
{
    return acmpca__file_provider_new(out, opts->profile, 1);
}

static int process_source_new(acmpca_credentials_provider **out,
                              const acmpca_credentials_options *opts)
{
    return acmpca_credentials_provider_process(out, NULL, opts);
}

static const source_new_fn default_sources[] = {
    environment_new,
    acmpca_credentials_provider_assume_role,
    acmpca_credentials_provider_web_identity,
    acmpca_credentials_provider_sso,
    credentials_file_source_new,
    process_source_new,
    config_file_source_new,
    acmpca_credentials_provider_container,
    acmpca_credentials_provider_imds,
};

#define DEFAULT_SOURCE_COUNT (sizeof(default_sources) / sizeof(default_sources[0]))

int acmpca_credentials_provider_default_ex(acmpca_credentials_provider **out,
                                           const acmpca_credentials_options *opts)
{
    acmpca_credentials_provider *list[DEFAULT_SOURCE_COUNT] = {NULL};
    acmpca_credentials_options pub;
    acmpca__cred_opts o;
    size_t i;
    int rc;

    if (!out)
        return acmpca__error_set(ACMPCA_EINVAL, "acmpca_credentials_provider_default: out is NULL");
    *out = NULL;
    /* Resolve the profile once, so that every source reads the same one. */
    if ((rc = acmpca__cred_opts_init(&o, opts, NULL, "acmpca_credentials_provider_default")) != 0)
        return rc;
    acmpca__cred_opts_public(&o, &pub);
    for (i = 0; i < DEFAULT_SOURCE_COUNT; i++) {
        if ((rc = default_sources[i](&list[i], &pub)) != 0) {
            while (i-- > 0)
                acmpca_credentials_provider_unref(list[i]);
            acmpca__cred_opts_clear(&o);
            return rc;
        }
    }
    rc = acmpca__provider_chain_new(out, "default-chain", list, DEFAULT_SOURCE_COUNT, o.now,
                                    o.now_userdata);
    acmpca__cred_opts_clear(&o);
    return rc;
}

int acmpca_credentials_provider_default(acmpca_credentials_provider **out, const char *profile)
{
    acmpca_credentials_options opts = ACMPCA_CREDENTIALS_OPTIONS_INIT;

    opts.profile = profile;
    return acmpca_credentials_provider_default_ex(out, &opts);
}

//! The state parser over every real state file in tests/fixtures/tfstate (written by
//! Terraform 0.12 to 1.x with the AWS, Google and AzureRM providers; see its NOTICE)
//! and the synthetic ones. No cluster needed.

use std::path::{Path, PathBuf};

use driftmgr::state::{KEEP_ALL, StateError, parse_state, read_local_states};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfstate")
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // wild/ (files that are not plain states) has a test of its own.
            if path.file_name().is_some_and(|n| n == "wild") {
                continue;
            }
            all_files(&path, out);
        } else if path.extension().is_none_or(|e| e != "md") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_parses_or_fails_with_a_named_error() {
    let mut files = Vec::new();
    all_files(&fixtures(), &mut files);
    files.sort();
    let (mut parsed, mut resources, mut data, mut empty) = (0, 0, 0, 0);
    let mut refused = Vec::new();
    for file in &files {
        let origin = file.strip_prefix(fixtures()).expect("under fixtures").display().to_string();
        let bytes = std::fs::read(file).expect("read fixture");
        match parse_state(&bytes, &origin) {
            Ok(state) => {
                parsed += 1;
                resources += state.resources.len();
                data += state.skipped_data_sources;
                for resource in &state.resources {
                    assert!(resource.address.contains(&resource.type_), "{origin}: {}", resource.address);
                    assert!(!resource.provider.name.is_empty(), "{origin}: {}", resource.address);
                }
            }
            Err(StateError::Empty { .. }) => empty += 1,
            Err(error) => {
                assert!(error.to_string().starts_with(&origin), "error must name the file: {error}");
                refused.push(error);
            }
        }
    }
    println!(
        "{} files: {parsed} parsed ({resources} resource instances, {data} data sources skipped), {empty} empty, {} refused",
        files.len(),
        refused.len()
    );
    assert_eq!(
        files.len(),
        171,
        "158 driftctl files, 1 synthetic one, 12 synthetic replay states (AWS network, IAM, S3, Lambda, ELB, RDS, VPC attachments, EKS, compute, EFS, edge; Google)"
    );
    assert_eq!(empty, 4, "four driftctl enumerator fixtures are empty files");
    let messages: Vec<String> = refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "driftctl/enumerator/testdata/states/symlink.tfstate: not valid JSON at line 1, column 2: expected ident",
            "driftctl/testdata/v4/invalid.tfstate: not valid JSON at line 16, column 7: key must be a string",
            "driftctl/testdata/v4/invalid_version.tfstate: terraform_version \"invalid\" is not a version that writes state format 4 (0.12 or later)",
            "driftctl/testdata/v4/unsupported_version.tfstate: terraform_version \"0.10.26\" is not a version that writes state format 4 (0.12 or later)",
        ]
    );
    assert_eq!(
        (parsed, resources, data),
        (163, 395, 9),
        "the replay states add 16 (AWS network), 13 and a data source (IAM), 11 (S3), 7 (Lambda), 7 (ELB), 5 (RDS), 7 (VPC attachments), 4 (EKS), 5 (compute), 2 (EFS), 7 (edge) and 3 (Google) instances"
    );
}

#[test]
fn ec2_instance_fixture_has_its_attributes() {
    let path = fixtures().join("driftctl/test/aws_ec2_instance/terraform.tfstate");
    let states = read_local_states(&path, KEEP_ALL).expect("read");
    let instance = &states[0].resources[0];
    assert_eq!(instance.address, "aws_instance.test");
    assert_eq!(instance.provider.name, "aws");
    assert_eq!(states[0].terraform_version, "0.12.29");
    assert!(instance.id.as_deref().is_some_and(|id| id.starts_with("i-")));
    assert!(instance.attributes.contains_key("instance_type"));
}

#[test]
fn modules_for_each_aliases_and_opentofu() {
    let states = read_local_states(&fixtures().join("synthetic"), KEEP_ALL).expect("read synthetic dir");
    let state = &states[0];
    assert_eq!((state.serial, state.lineage.as_str()), (17, "0b7e2d4c-5f1a-4c1e-9a51-7d3f0c9e8a11"));
    let addresses: Vec<&str> = state.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            r#"module.network.aws_subnet.private["eu-west-1a"]"#,
            r#"module.network.aws_subnet.private["eu-west-1b"]"#,
            "module.network.module.edge.aws_internet_gateway.this",
            "aws_instance.web[0]",
            "aws_instance.web[1]",
        ]
    );
    assert_eq!(state.skipped_data_sources, 1);
    assert_eq!(state.resources[0].provider.source.as_deref(), Some("registry.opentofu.org/hashicorp/aws"));
    assert_eq!(state.resources[2].provider.alias.as_deref(), Some("west"));
}

#[test]
fn missing_and_empty_locations_are_named() {
    let missing = read_local_states(Path::new("/nonexistent/x.tfstate"), KEEP_ALL).expect_err("missing");
    assert_eq!(missing.to_string(), "/nonexistent/x.tfstate: not found");
    let dir = tempfile::tempdir().expect("tmp");
    let none = read_local_states(dir.path(), KEEP_ALL).expect_err("no files");
    assert!(none.to_string().ends_with("no *.tfstate files found"));
}

/// Files found under state names in real repositories: each parses, or is refused with
/// a message that names the file and says what it is.
#[test]
fn files_found_in_the_wild() {
    let wild = fixtures().join("wild");
    let read = |name: &str| {
        let path = wild.join(name);
        let bytes = std::fs::read(&path).expect("fixture");
        parse_state(&bytes, name)
    };
    let modules = read("module-named-provider.tfstate").expect("a module named like a provider parses");
    let providers: Vec<(&str, Option<&str>)> =
        modules.resources.iter().map(|r| (r.provider.name.as_str(), r.provider.alias.as_deref())).collect();
    assert_eq!(providers, [("aws", None), ("aws", None), ("aws", Some("west"))]);
    assert_eq!(modules.resources[1].address, "module.oidc_provider.aws_vpc.v");

    let lifecycle = read("tainted-deposed-empty.tfstate").expect("tainted, deposed and empty blocks parse");
    let instances: Vec<(&str, Option<&str>)> =
        lifecycle.resources.iter().map(|r| (r.address.as_str(), r.id.as_deref())).collect();
    assert_eq!(
        instances,
        [
            ("aws_instance.web", Some("i-0new")),
            ("aws_instance.web (deposed object 00000001)", Some("i-0old"))
        ],
        "a tainted instance is managed; a deposed object is a real resource in state; an empty block adds nothing"
    );
    assert_eq!(read("crlf.tfstate").expect("CRLF parses").resources.len(), 1);

    for (name, message) in [
        (
            "opentofu-encrypted.tfstate",
            "opentofu-encrypted.tfstate: this is an OpenTofu client-side encrypted state, not a readable state; run `tofu state pull`",
        ),
        (
            "age-encrypted.tfstate",
            "age-encrypted.tfstate: this is an age-encrypted file, not a readable state; decrypt it first",
        ),
        (
            "gpg-armoured.tfstate",
            "gpg-armoured.tfstate: this is a gpg (OpenPGP) armoured message, not a readable state",
        ),
        (
            "concatenated.tfstate",
            "concatenated.tfstate: not a Terraform state: the file holds more than one JSON document (two states concatenated",
        ),
        (
            "backend-cache/.terraform/terraform.tfstate",
            "backend-cache/.terraform/terraform.tfstate: not a Terraform state: this is Terraform's backend settings cache",
        ),
    ] {
        let error = read(name).expect_err(name).to_string();
        assert!(error.starts_with(message), "{name}: {error}");
    }
    let in_gpg = read("gpg-armoured.tfstate").expect_err("gpg").to_string();
    assert!(!in_gpg.contains("hQEMA"), "no file content in the message: {in_gpg}");
}

/// A directory scan skips Terraform's own `.terraform/` folder, which never holds state.
#[test]
fn directory_scans_skip_the_backend_cache() {
    let none = read_local_states(&fixtures().join("wild/backend-cache"), KEEP_ALL)
        .expect_err("only a backend cache");
    assert!(none.to_string().ends_with("no *.tfstate files found"), "{none}");
}
